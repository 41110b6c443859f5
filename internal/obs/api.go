package obs

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// apiTimeout bounds the datastore queries of one API request.
const apiTimeout = 10 * time.Second

// ranges are the chart ranges the page offers.
var ranges = map[string]time.Duration{
	"15m": 15 * time.Minute, "1h": time.Hour, "6h": 6 * time.Hour, "24h": 24 * time.Hour, "7d": 7 * 24 * time.Hour,
}

func (s *Server) apiFleet(w http.ResponseWriter, r *http.Request) {
	ids, ok := s.visible(w, r)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), apiTimeout)
	defer cancel()
	now := time.Now()
	f, err := LoadFleet(ctx, s.db, now)
	if err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": err.Error()})
		return
	}
	f.Only(ids, now)
	writeJSON(w, http.StatusOK, f)
}

// BacklogReport is the buffer backlog with where it came from.
type BacklogReport struct {
	// Source is "bus" (read from JetStream now), "collector" (read from a
	// running collector's /api/backlog) or "unknown".
	Source  string    `json:"source"`
	Reason  string    `json:"reason,omitempty"` // why it is unknown or partial
	Streams []Backlog `json:"streams"`
}

func (s *Server) apiBacklog(w http.ResponseWriter, r *http.Request) {
	rep := BacklogReport{Source: "bus", Streams: []Backlog{}}
	b, err := ReadBacklog(r.Context(), s.bus.JS())
	if b != nil {
		rep.Streams = b
	}
	if err != nil {
		rep.Reason = err.Error()
	}
	writeJSON(w, http.StatusOK, rep)
}

func (s *Server) apiSeries(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.URL.Query().Get("connection"), 10, 64)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "connection: an id is required"})
		return
	}
	ids, ok := s.visible(w, r)
	if !ok {
		return
	}
	if ids != nil && !ids[id] {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "not found"})
		return
	}
	rng := r.URL.Query().Get("range")
	d, ok := ranges[rng]
	if !ok {
		rng, d = "1h", time.Hour
	}
	ctx, cancel := context.WithTimeout(r.Context(), apiTimeout)
	defer cancel()
	now := time.Now()
	writeJSON(w, http.StatusOK, map[string]any{
		"connection": id, "range": rng, "from": now.Add(-d).UnixMilli(), "to": now.UnixMilli(),
		"series": LoadSeries(ctx, s.db, id, now.Add(-d)),
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	_ = enc.Encode(v)
}
