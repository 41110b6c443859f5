package api

import (
	"net/http"

	"github.com/pgcollector/pgcollector/internal/access"
)

func (a *API) listConnections(w http.ResponseWriter, r *http.Request, p access.Principal) {
	cs, err := a.svc.ListConnections(r.Context(), p)
	if err != nil {
		fail(w, a.log, err)
		return
	}
	if cs == nil {
		cs = []access.ConnectionView{}
	}
	writeJSON(w, http.StatusOK, cs)
}

func (a *API) createConnection(w http.ResponseWriter, r *http.Request, p access.Principal) {
	var in access.ConnectionInput
	if !decode(w, r, &in) {
		return
	}
	c, err := a.svc.CreateConnection(r.Context(), p, in)
	if err != nil {
		fail(w, a.log, err)
		return
	}
	w.Header().Set("Location", Prefix+"connections/"+itoa(c.ID))
	writeJSON(w, http.StatusCreated, c)
}

func (a *API) getConnection(w http.ResponseWriter, r *http.Request, p access.Principal) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	c, err := a.svc.GetConnection(r.Context(), p, id)
	if err != nil {
		fail(w, a.log, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (a *API) updateConnection(w http.ResponseWriter, r *http.Request, p access.Principal) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	var in access.ConnectionInput
	if !decode(w, r, &in) {
		return
	}
	c, err := a.svc.UpdateConnection(r.Context(), p, id, in)
	if err != nil {
		fail(w, a.log, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (a *API) deleteConnection(w http.ResponseWriter, r *http.Request, p access.Principal) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	if err := a.svc.DeleteConnection(r.Context(), p, id); err != nil {
		fail(w, a.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) setMonitored(on bool) func(w http.ResponseWriter, r *http.Request, p access.Principal) {
	return func(w http.ResponseWriter, r *http.Request, p access.Principal) {
		id, ok := pathID(w, r)
		if !ok {
			return
		}
		c, err := a.svc.SetMonitored(r.Context(), p, id, on)
		if err != nil {
			fail(w, a.log, err)
			return
		}
		writeJSON(w, http.StatusOK, c)
	}
}
