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

func servePage(w http.ResponseWriter, _ *http.Request) {
	page, err := web.ReadFile("web/index.html")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(page)
}
