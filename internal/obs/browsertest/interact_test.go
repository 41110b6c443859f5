package browsertest_test

import (
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/internal/obs/browsertest"
)

// TestBrowserTypesClicksAndSeesViolations checks the driven browser on a
// small page: typing and clicking reach the page's script, an inline
// script that the page's policy refuses is reported as a problem, and
// the screenshot is of the window's size.
func TestBrowserTypesClicksAndSeesViolations(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'self'")
		_, _ = w.Write([]byte(`<!doctype html><input id="in"><button id="go">go</button><p id="out"></p>` +
			`<script>document.title = "inline ran"</script><script src="/app.js"></script>`))
	})
	mux.HandleFunc("GET /app.js", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		_, _ = w.Write([]byte(`document.getElementById("go").addEventListener("click", () => {
			document.getElementById("out").textContent = "got " + document.getElementById("in").value; });`))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	b := browsertest.Launch(t)
	b.Do(t, "fill and click", chromedp.Navigate(srv.URL+"/"),
		chromedp.SendKeys(chromedp.CSS("#in"), "hello"), chromedp.Click(chromedp.CSS("#go")))
	b.WaitFor(t, "the script's answer", `document.getElementById("out").textContent === "got hello"`)
	require.NotEqual(t, "inline ran", browsertest.Eval[string](t, b, "document.title"), "the policy held")
	b.WaitFor(t, "the violation to be reported", `true`)
	problems := strings.Join(b.Problems(), "\n")
	require.Contains(t, problems, "Content Security Policy", "the refused inline script is reported")
	f, err := os.Open(b.Screenshot(t, t.TempDir(), "small.png"))
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	require.Equal(t, image.Rect(0, 0, 1280, 900), img.Bounds(), "the window's size")
}
