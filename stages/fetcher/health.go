package fetcher

import (
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/pgcollector/pgcollector/internal/catalog"
	"github.com/pgcollector/pgcollector/internal/monpool"
)

// health remembers which monitored servers answered and which probes
// failed on their last run, so that a server going away, a probe starting
// to fail and their recoveries are each logged once — not once per run,
// which for a fleet of servers every 30 s would bury everything else.
type health struct {
	mu      sync.Mutex
	servers map[int64]serverState
	failing map[availKey]string // last error text of a failing probe
}

type serverState struct {
	down  bool
	since time.Time
}

func newHealth() *health {
	return &health{servers: map[int64]serverState{}, failing: map[availKey]string{}}
}

// serverUp records that a session to the connection's server was had.
func (f *Fetcher) serverUp(conn catalog.Connection, log *slog.Logger) {
	f.obs.ConnectionUp(conn.Name, true)
	h := f.health
	h.mu.Lock()
	st, known := h.servers[conn.ID]
	h.servers[conn.ID] = serverState{since: f.now()}
	h.mu.Unlock()
	if known && st.down {
		log.Info("monitored server reachable again", "outage", f.now().Sub(st.since).Round(time.Second))
	}
}

// acquireFailed records a failure to get a session. It reports whether
// the failure is the server's (unreachable, login refused): those are
// logged once per outage here, and the caller need not log them again.
func (f *Fetcher) acquireFailed(conn catalog.Connection, err error, log *slog.Logger) bool {
	if !serverFailure(err) {
		return false
	}
	f.obs.ConnectionUp(conn.Name, false)
	h := f.health
	h.mu.Lock()
	st := h.servers[conn.ID]
	first := !st.down
	if first {
		h.servers[conn.ID] = serverState{down: true, since: f.now()}
	}
	h.mu.Unlock()
	if first {
		log.Error("monitored server unreachable: its probes record this error until it answers again", "err", err)
	}
	return true
}

// serverFailure says whether an Acquire error is about the server rather
// than a busy pool or one database.
func serverFailure(err error) bool {
	var ce *monpool.ConnectError
	if errors.As(err, &ce) {
		return !ce.DatabaseOnly
	}
	return errors.Is(err, monpool.ErrBackoff)
}

// probeFailed logs a probe failure when it starts or its error changes;
// repeats of the same error go to debug.
func (f *Fetcher) probeFailed(k availKey, err error, log *slog.Logger) {
	msg := err.Error()
	h := f.health
	h.mu.Lock()
	last, was := h.failing[k]
	h.failing[k] = msg
	h.mu.Unlock()
	switch {
	case !was:
		log.Warn("probe failed; logged again only when the error changes or the probe recovers", "err", err)
	case last != msg:
		log.Warn("probe still failing, with another error", "err", err)
	default:
		log.Debug("probe failed again", "err", err)
	}
}

// probeSucceeded logs the recovery of a probe that was failing.
func (f *Fetcher) probeSucceeded(k availKey, log *slog.Logger) {
	h := f.health
	h.mu.Lock()
	_, was := h.failing[k]
	delete(h.failing, k)
	h.mu.Unlock()
	if was {
		log.Info("probe recovered")
	}
}
