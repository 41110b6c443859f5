package api

import (
	"net/http"
	"strconv"

	"github.com/pgcollector/pgcollector/internal/access"
)

// route is one API operation. The list below is the API: openapi.json
// describes exactly these (TestOpenAPIMatchesRoutes).
type route struct {
	Method  string
	Pattern string // net/http pattern, with {id} / {name} / {probe} wildcards
	handle  func(w http.ResponseWriter, r *http.Request, p access.Principal)
}

func (a *API) routes() []route {
	return []route{
		{"GET", Prefix + "me", a.me},
		{"GET", Prefix + "connections", a.listConnections},
		{"POST", Prefix + "connections", a.createConnection},
		{"GET", Prefix + "connections/{id}", a.getConnection},
		{"PATCH", Prefix + "connections/{id}", a.updateConnection},
		{"DELETE", Prefix + "connections/{id}", a.deleteConnection},
		{"POST", Prefix + "connections/{id}/enable", a.setMonitored(true)},
		{"POST", Prefix + "connections/{id}/disable", a.setMonitored(false)},
		{"GET", Prefix + "connections/{id}/status", a.status},
		{"GET", Prefix + "connections/{id}/samples/{probe}", a.samples},
		{"GET", Prefix + "probes", a.listProbes},
		{"PATCH", Prefix + "probes/{name}", a.setProbe},
	}
}

// pathID reads the {id} wildcard; a malformed id is a 404 like a missing
// one, since /connections/abc names no connection.
func pathID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		writeError(w, http.StatusNotFound, "not found", "")
		return 0, false
	}
	return id, true
}

// meBody is who the token belongs to: the page shows it, and a client can
// check a token without side effects.
type meBody struct {
	Username string `json:"username"`
	Admin    bool   `json:"admin"`
	TokenID  int64  `json:"token_id"`
}

func (a *API) me(w http.ResponseWriter, _ *http.Request, p access.Principal) {
	writeJSON(w, http.StatusOK, meBody{Username: p.Username, Admin: p.IsAdmin, TokenID: p.TokenID})
}
