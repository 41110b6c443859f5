package fetcher

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

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
	sql       string // the query made for the source's columns (Probe.ColumnsOf), if read
}

// availabilityCache remembers, per connection, database and probe, whether
// the probe's source exists there, and how large the probe's result was
// last time (sizeHint). It is per database on purpose: an extension
// installed in one database says nothing about the others. Both live in
// one map of compact slots because it has an entry for every probe of
// every database of the fleet, ~60,000 at 1,000 servers, and its size is
// live heap the garbage collector walks on every cycle.
type availabilityCache struct {
	recheck time.Duration
	mu      sync.Mutex
	m       map[availKey]availSlot
	queries map[string]string // one copy of each adapted query (see put)
}

// availSlot is what the cache holds for one key: an availEntry without
// time.Time's location pointer, and the size hint.
type availSlot struct {
	reason  string
	sql     string
	checked int64 // availEntry.checkedAt in Unix nanoseconds, 0 for the zero time
	known   bool  // availability was put (a slot may hold only a size hint)
	size    int32 // the last result's size with headroom (sizeHint)
}

func (s availSlot) entry() availEntry {
	e := availEntry{reason: s.reason, sql: s.sql}
	if s.checked != 0 {
		e.checkedAt = time.Unix(0, s.checked)
	}
	return e
}

// maxQueries bounds the adapted queries kept once: there is one per
// extension version in the fleet, so more means something else varies.
const maxQueries = 64

func newAvailabilityCache(recheck time.Duration) *availabilityCache {
	return &availabilityCache{recheck: recheck, m: map[availKey]availSlot{}, queries: map[string]string{}}
}

func (c *availabilityCache) get(k availKey, now time.Time) (availEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.m[k]
	e := s.entry()
	switch {
	case !ok || !s.known:
		return e, false
	case e.reason == "" && !e.checkedAt.IsZero() && e.sql == "":
		// A source that was there stays trusted until the probe fails on a
		// missing object or privilege (forget); checking it again on every
		// run would double the queries of a 5-minute probe.
		return e, true
	}
	// Unavailable sources are checked again after the recheck interval,
	// and so are the columns of a source the query is made for: an
	// extension update that adds columns fails nothing, and they would be
	// NULL until the next failure otherwise.
	return e, now.Sub(e.checkedAt) < c.recheck
}

// put stores e. An adapted query is kept once however many databases
// run it: a fleet of one extension version has a single ~4 KB text, not
// one per connection (4.5 MB of heap at 1,000 servers otherwise).
func (c *availabilityCache) put(k availKey, e availEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e.sql != "" {
		if q, ok := c.queries[e.sql]; ok {
			e.sql = q
		} else if len(c.queries) < maxQueries {
			c.queries[e.sql] = e.sql
		}
	}
	s := c.m[k]
	s.reason, s.sql, s.known, s.checked = e.reason, e.sql, true, 0
	if !e.checkedAt.IsZero() {
		s.checked = e.checkedAt.UnixNano()
	}
	c.m[k] = s
}

// forget drops what is known about the source; the size hint stays.
func (c *availabilityCache) forget(conn int64, db, probe string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := availKey{conn, db, probe}
	if s, ok := c.m[k]; ok {
		c.m[k] = availSlot{size: s.size}
	}
}

// query returns the query made for the columns of the probe's source
// there, or "" when there is none (QueryFor applies).
func (c *availabilityCache) query(k availKey) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[k].sql
}

func (c *availabilityCache) available(conn int64, db, probe string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.m[availKey{conn, db, probe}]
	return ok && s.known && s.reason == ""
}

// sizeHint is how large the probe's result was last time there, with an
// eighth of headroom, so the next run's buffer is allocated once at about
// the right size instead of doubling its way there: the doubling's copies
// and zeroing were the fetcher's largest CPU cost in `make bench`.
func (c *availabilityCache) sizeHint(k availKey) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return int(c.m[k].size)
}

// maxSizeHint bounds a hint: a result of a few megabytes is split into
// messages anyway, and one outlier must not make every later run allocate
// that much up front.
const maxSizeHint = 8 << 20

// setSize records a result's size.
func (c *availabilityCache) setSize(k availKey, size int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.m[k]
	s.size = int32(min(size+size/8, maxSizeHint))
	c.m[k] = s
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
	reason, cols, err := CheckSource(ctx, sess.Conn, p, version)
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
	e := availEntry{reason: reason, checkedAt: now}
	if reason == "" && p.ColumnsOf != "" {
		// Read with the check and again with every recheck (see get), so
		// that columns an extension update adds are picked up; a column it
		// renames fails the query (undefined column), which forgets the
		// entry at once.
		if sql, ok := p.QueryForColumns(cols); ok && len(cols) > 0 {
			e.sql = sql
		} else {
			f.log.Debug("columns of the probe's source not read: the probe runs its version-only query",
				"probe", p.Name, "relation", p.ColumnsOf)
		}
	}
	f.avail.put(k, e)
	return reason, reason != ""
}

// CheckSource runs the probe's availability check on conn and, for a
// probe made for its source's columns (ColumnsOf), reads them in the same
// query: one round trip however often the columns are read again. The
// reason is empty when the probe can run.
func CheckSource(ctx context.Context, conn *pgx.Conn, p probes.Probe, version int) (string, []string, error) {
	if _, ok := p.QueryFor(version); !ok {
		return fmt.Sprintf("not available on PostgreSQL %d (needs server_version_num %d or later)",
			version/10000, p.MinVersion()), nil, nil
	}
	var (
		reason *string
		cols   []string
		err    error
	)
	switch {
	case p.ColumnsOf != "":
		check := p.Check
		if check == "" {
			check = "SELECT NULL::text"
		}
		err = conn.QueryRow(ctx, "SELECT ("+check+"), ARRAY("+probes.ColumnsSQL+")", p.ColumnsOf).
			Scan(&reason, &cols)
	case p.Check != "":
		err = conn.QueryRow(ctx, p.Check).Scan(&reason)
	default:
		return "", nil, nil
	}
	if err != nil {
		return "", nil, fmt.Errorf("availability check of %s: %w", p.Name, err)
	}
	if reason != nil {
		return *reason, nil, nil
	}
	return "", cols, nil
}
