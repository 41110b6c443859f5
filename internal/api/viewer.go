package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/pgcollector/pgcollector/internal/access"
	"github.com/pgcollector/pgcollector/internal/obs"
)

// Viewer makes the fleet page's own JSON (/api/fleet, /api/series) obey
// the same isolation as the API: the bearer token's user sees their
// connections, an admin all, and a request without a valid token nothing.
func (a *API) Viewer() obs.Viewer {
	return func(r *http.Request) (map[int64]bool, bool, bool) {
		plain, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			return nil, false, false
		}
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		p, err := access.Authenticate(ctx, a.svc.DB(), strings.TrimSpace(plain))
		if err != nil {
			return nil, false, false
		}
		if ok, _ := a.rate.Allow(p.TokenID); !ok {
			return nil, false, false
		}
		if p.IsAdmin {
			return nil, true, true
		}
		cs, err := a.svc.ListConnections(ctx, p)
		if err != nil {
			a.log.Error("page: list connections", "user", p.Username, "err", err)
			return nil, false, false
		}
		ids := make(map[int64]bool, len(cs))
		for _, c := range cs {
			ids[c.ID] = true
		}
		return ids, false, true
	}
}
