package fetcher

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/pgcollector/pgcollector/internal/catalog"
	"github.com/pgcollector/pgcollector/internal/monpool"
	"github.com/pgcollector/pgcollector/probes"
)

type availKey struct {
	conn  int64
	db    string
	probe string
}

type availEntry struct {
	reason    string // empty: available
	checkedAt time.Time
}

// availabilityCache remembers, per connection, database and probe, whether
// the probe's source exists there. It is per database on purpose: an
// extension installed in one database says nothing about the others.
type availabilityCache struct {
	recheck time.Duration
	mu      sync.Mutex
	m       map[availKey]availEntry
}

func newAvailabilityCache(recheck time.Duration) *availabilityCache {
	return &availabilityCache{recheck: recheck, m: map[availKey]availEntry{}}
}

func (c *availabilityCache) get(k availKey, now time.Time) (availEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	switch {
	case !ok:
		return e, false
	case e.reason == "" && !e.checkedAt.IsZero():
		// A source that was there stays trusted until the probe fails on a
		// missing object or privilege (forget); checking it again on every
		// run would double the queries of a 5-minute probe.
		return e, true
	}
	return e, now.Sub(e.checkedAt) < c.recheck
}

func (c *availabilityCache) put(k availKey, e availEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[k] = e
}

func (c *availabilityCache) forget(conn int64, db, probe string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, availKey{conn, db, probe})
}

func (c *availabilityCache) available(conn int64, db, probe string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[availKey{conn, db, probe}]
	return ok && e.reason == ""
}

// availability decides whether to run the probe now. skip is true when it
// must not run; reason is then non-empty when the absence was just
// (re)checked and should be recorded, and empty when it was recorded
// recently and nothing needs saying.
func (f *Fetcher) availability(ctx context.Context, sess *monpool.Session, conn catalog.Connection,
	p probes.Probe, db string, version int) (reason string, skip bool) {
	k := availKey{conn.ID, db, p.Name}
	now := f.now()
	if e, fresh := f.avail.get(k, now); fresh {
		return "", e.reason != ""
	}
	reason, err := checkSource(ctx, sess, p, version)
	if err != nil {
		// The check itself failed (timeout, broken session): run the probe
		// anyway; its own error will be recorded if it fails too. It is
		// remembered as available but already due for a recheck, so that a
		// cluster-wide probe stops after this database as it would after a
		// passing check, instead of collecting the same rows again from the
		// next one.
		f.avail.put(k, availEntry{})
		return "", false
	}
	f.avail.put(k, availEntry{reason: reason, checkedAt: now})
	return reason, reason != ""
}

func checkSource(ctx context.Context, sess *monpool.Session, p probes.Probe, version int) (string, error) {
	if _, ok := p.QueryFor(version); !ok {
		return fmt.Sprintf("not available on PostgreSQL %d (needs server_version_num %d or later)",
			version/10000, p.MinVersion()), nil
	}
	if p.Check == "" {
		return "", nil
	}
	var reason *string
	if err := sess.Conn.QueryRow(ctx, p.Check).Scan(&reason); err != nil {
		return "", fmt.Errorf("availability check of %s: %w", p.Name, err)
	}
	if reason == nil {
		return "", nil
	}
	return *reason, nil
}
