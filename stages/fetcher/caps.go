package fetcher

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/pgcollector/pgcollector/internal/monpool"
	"github.com/pgcollector/pgcollector/probes"
)

// capLogEvery is how often a cap that keeps cutting the same probe on the
// same database is logged again: once an hour tells the operator it still
// cuts, without a line per run.
const capLogEvery = time.Hour

// objectCaps applies PGC_PROBE_MAX_OBJECTS to per-object probes and
// reports when it cuts: the pgcollector_probe_objects_capped_total counter
// every run, and a log line with connection, database, probe, kept and
// total the first time and then hourly.
type objectCaps struct {
	caps map[string]int

	mu     sync.Mutex
	logged map[availKey]time.Time
}

func newObjectCaps(caps map[string]int) *objectCaps {
	return &objectCaps{caps: caps, logged: map[availKey]time.Time{}}
}

// limit is the probe's cap, 0 when it is not capped.
func (c *objectCaps) limit(p probes.Probe) int { return c.caps[p.Name] }

// check runs after a capped run that kept as many rows as the cap: only
// then can the cap have cut, and only then is the uncapped count asked
// for, on the same session, so a cap that cuts nothing costs nothing.
// A failed count is logged and the run stands: its rows are good.
func (f *Fetcher) checkCap(ctx context.Context, sess *monpool.Session, key availKey, p probes.Probe, sql string, data []byte,
	log *slog.Logger) {
	n := f.caps.limit(p)
	if n == 0 {
		return
	}
	kept := bytes.Count(data, []byte{'\n'})
	if kept < n {
		return
	}
	var total int
	if err := sess.Conn.QueryRow(ctx, probes.CountObjects(sql)).Scan(&total); err != nil {
		log.Warn("probe capped at PGC_PROBE_MAX_OBJECTS; counting its objects failed", "kept", kept, "err", err)
		return
	}
	if total <= kept {
		return
	}
	f.obs.ObjectsCapped(p.Name, total-kept)
	now := f.now()
	f.caps.mu.Lock()
	last, seen := f.caps.logged[key]
	due := !seen || now.Sub(last) >= capLogEvery
	if due {
		f.caps.logged[key] = now
	}
	f.caps.mu.Unlock()
	if due {
		log.Info("probe capped at PGC_PROBE_MAX_OBJECTS: kept the most active objects", "kept", kept, "total", total,
			"cap", n)
	}
}
