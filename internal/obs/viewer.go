package obs

import (
	"net/http"
	"time"
)

// Viewer decides, when users exist (the REST API is on), which
// connections the caller of a page request may see. ok false means the
// request carried no valid token: the page's JSON is then refused (401),
// so that with users one cannot read another's connections through the
// page. all is true for an admin. Without a Viewer the page's JSON is the
// whole fleet, as for an operator's private address.
type Viewer func(r *http.Request) (visible map[int64]bool, all bool, ok bool)

// SetViewer makes the page's JSON per user. Call it before Run or Serve.
func (s *Server) SetViewer(v Viewer) { s.viewer = v }

// visible applies the viewer to r: it reports whether the request may go
// on and the filter to apply (nil: everything).
func (s *Server) visible(w http.ResponseWriter, r *http.Request) (filter map[int64]bool, ok bool) {
	if s.viewer == nil {
		return nil, true
	}
	ids, all, ok := s.viewer(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="pgcollector"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{
			"error": "sign in with an API token to see your connections", "field": "Authorization"})
		return nil, false
	}
	if all {
		return nil, true
	}
	return ids, true
}

// Only keeps the connections in ids (and their errors) and judges the
// fleet again; nil keeps everything.
func (f *Fleet) Only(ids map[int64]bool, now time.Time) {
	if ids == nil {
		return
	}
	names := map[string]bool{}
	kept := f.Connections[:0]
	for _, c := range f.Connections {
		if ids[c.ID] {
			kept = append(kept, c)
			names[c.Name] = true
		}
	}
	f.Connections = kept
	errs := f.RecentErrors[:0]
	for _, e := range f.RecentErrors {
		if names[e.Connection] {
			errs = append(errs, e)
		}
	}
	f.RecentErrors = errs
	f.Problems = problems(f, now)
	f.Healthy = len(f.Problems) == 0
}
