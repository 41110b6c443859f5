package obs

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPageHeadersAndPolicy checks that the page is served with its
// Content-Security-Policy and that its files keep to it: no inline script,
// event handler attribute or style attribute in the HTML, and no address
// of another server anywhere (the page works offline and talks only to
// this one).
func TestPageHeadersAndPolicy(t *testing.T) {
	rr := httptest.NewRecorder()
	servePage(rr, httptest.NewRequest(http.MethodGet, "/", nil))
	require.Equal(t, http.StatusOK, rr.Code)
	csp := rr.Header().Get("Content-Security-Policy")
	for _, d := range []string{"script-src 'self'", "style-src 'self'", "connect-src 'self'", "form-action 'none'", "frame-ancestors 'none'"} {
		require.Contains(t, csp, d)
	}
	require.Equal(t, "no-referrer", rr.Header().Get("Referrer-Policy"))
	page := rr.Body.String()
	require.Contains(t, page, `<script src="/static/manage.js"></script>`)
	require.NotRegexp(t, regexp.MustCompile(`<script>|<script [^>]*>[^<]`), page, "inline script")
	require.NotRegexp(t, regexp.MustCompile(`\son\w+=|\sstyle=`), page, "handler or style attribute")

	rr = httptest.NewRecorder()
	staticHandler().ServeHTTP(rr, httptest.NewRequest(http.MethodGet, "/static/manage.js", nil))
	require.Equal(t, http.StatusOK, rr.Code)
	require.Contains(t, rr.Header().Get("Content-Type"), "javascript")

	require.NoError(t, fs.WalkDir(web, "web", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := web.ReadFile(path)
		require.NoError(t, err)
		for _, m := range regexp.MustCompile(`https?://[^\s"'<>)]+`).FindAllString(string(b), -1) {
			require.True(t, strings.HasPrefix(m, "http://www.w3.org/"), "%s refers to %s", path, m)
		}
		return nil
	}))
}
