package fetcher

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgcollector/pgcollector/internal/catalog"
)

type dbList struct {
	names []string
	at    time.Time
	fp    string
}

// databaseCache keeps each server's list of connectable, non-template
// databases for a short while, so a database-scoped probe does not list
// them again for every job.
type databaseCache struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[int64]dbList
}

func newDatabaseCache(ttl time.Duration) *databaseCache {
	return &databaseCache{ttl: ttl, m: map[int64]dbList{}}
}

// databases returns the databases a database-scoped probe runs on, the
// connection's own database first (cluster-wide probes prefer it).
func (f *Fetcher) databases(ctx context.Context, conn catalog.Connection) ([]string, error) {
	c := f.dbs
	c.mu.Lock()
	l, ok := c.m[conn.ID]
	c.mu.Unlock()
	if ok && l.fp == conn.Fingerprint() && f.now().Sub(l.at) < c.ttl {
		return l.names, nil
	}
	ctx, cancel := context.WithTimeout(ctx, f.cfg.ProbeDeadline)
	defer cancel()
	sess, err := f.pool.Acquire(ctx, conn, conn.Database)
	if err != nil {
		return nil, err
	}
	rows, err := sess.Conn.Query(ctx, `SELECT datname::text FROM pg_catalog.pg_database
		WHERE datallowconn AND NOT datistemplate AND has_database_privilege(oid, 'CONNECT')`)
	var names []string
	if err == nil {
		names, err = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	sess.Release(err != nil)
	if err != nil {
		return nil, fmt.Errorf("list databases of %s: %w", conn.Name, err)
	}
	sort.Slice(names, func(i, j int) bool {
		if (names[i] == conn.Database) != (names[j] == conn.Database) {
			return names[i] == conn.Database
		}
		return names[i] < names[j]
	})
	c.mu.Lock()
	c.m[conn.ID] = dbList{names: names, at: f.now(), fp: conn.Fingerprint()}
	c.mu.Unlock()
	return names, nil
}
