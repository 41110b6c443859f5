package api

import (
	"net/http"
	"strconv"

	"github.com/pgcollector/pgcollector/internal/access"
	"github.com/pgcollector/pgcollector/internal/catalog"
)

// probeBody is a probe as the API shows it.
type probeBody struct {
	Name               string `json:"name"`
	Scope              string `json:"scope"`
	IntervalSeconds    int    `json:"interval_seconds"`
	RetentionDays      int    `json:"retention_days"`
	Enabled            bool   `json:"enabled"`
	StatementTimeoutMs int    `json:"statement_timeout_ms"`
	Description        string `json:"description"`
}

// probeChange is a PATCH of one probe; absent fields are kept.
type probeChange struct {
	IntervalSeconds    *int  `json:"interval_seconds,omitempty"`
	RetentionDays      *int  `json:"retention_days,omitempty"`
	Enabled            *bool `json:"enabled,omitempty"`
	StatementTimeoutMs *int  `json:"statement_timeout_ms,omitempty"`
}

func (a *API) listProbes(w http.ResponseWriter, r *http.Request, _ access.Principal) {
	ps, err := a.svc.ListProbes(r.Context())
	if err != nil {
		fail(w, a.log, err)
		return
	}
	out := make([]probeBody, 0, len(ps))
	for _, pc := range ps {
		out = append(out, bodyOf(pc))
	}
	writeJSON(w, http.StatusOK, out)
}

func bodyOf(pc catalog.ProbeConfig) probeBody {
	return probeBody{Name: pc.Name, Scope: pc.Scope, IntervalSeconds: pc.IntervalSeconds, RetentionDays: pc.RetentionDays,
		Enabled: pc.Enabled, StatementTimeoutMs: pc.StatementTimeoutMs, Description: pc.Description}
}

func (a *API) setProbe(w http.ResponseWriter, r *http.Request, p access.Principal) {
	var in probeChange
	if !decode(w, r, &in) {
		return
	}
	name := r.PathValue("name")
	err := a.svc.SetProbe(r.Context(), p, name, catalog.ProbeChange{IntervalSeconds: in.IntervalSeconds,
		RetentionDays: in.RetentionDays, Enabled: in.Enabled, StatementTimeoutMs: in.StatementTimeoutMs})
	if err != nil {
		fail(w, a.log, err)
		return
	}
	ps, err := a.svc.ListProbes(r.Context())
	if err != nil {
		fail(w, a.log, err)
		return
	}
	for _, pc := range ps {
		if pc.Name == name {
			writeJSON(w, http.StatusOK, bodyOf(pc))
			return
		}
	}
	writeError(w, http.StatusNotFound, "not found", "")
}

func (a *API) status(w http.ResponseWriter, r *http.Request, p access.Principal) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	st, err := a.svc.Status(r.Context(), p, id)
	if err != nil {
		fail(w, a.log, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// defaultSamples is how many rows a samples request returns without ?limit.
const defaultSamples = 100

func (a *API) samples(w http.ResponseWriter, r *http.Request, p access.Principal) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	limit := defaultSamples
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			writeError(w, http.StatusBadRequest, "limit: must be an integer", "limit")
			return
		}
		limit = n
	}
	rows, err := a.svc.Samples(r.Context(), p, id, r.PathValue("probe"), limit)
	if err != nil {
		fail(w, a.log, err)
		return
	}
	writeJSON(w, http.StatusOK, rows)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
