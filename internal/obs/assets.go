package obs

import (
	"embed"
	"io/fs"
	"net/http"
)

// web holds the fleet page: plain HTML, CSS and a small script that draws
// its charts as SVG. Nothing is loaded from elsewhere, so the page works
// on a machine without Internet access.
//
//go:embed web
var web embed.FS

func staticHandler() http.Handler {
	sub, err := fs.Sub(web, "web")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return http.StripPrefix("/static/", http.FileServerFS(sub))
}

// pagePolicy lets the page run only its own script and style and talk
// only to this server. The page holds an API token in a signed-in tab, so
// an injected script or a framing page must not get to run; form-action
// 'none' keeps a form from ever being submitted as a navigation, which
// would put its fields (a token, a password) into a URL.
const pagePolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

func servePage(w http.ResponseWriter, _ *http.Request) {
	page, err := web.ReadFile("web/index.html")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", pagePolicy)
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(page)
}
