package fetcher

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/require"
)

func TestAvailabilityCache(t *testing.T) {
	c := newAvailabilityCache(3 * time.Second)
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	in := func(db string) availKey { return availKey{1, db, "pg_stat_statements"} }

	c.put(in("app1"), availEntry{reason: "extension pg_stat_statements not installed", checkedAt: now})
	c.put(in("app2"), availEntry{checkedAt: now})
	// A failed check is remembered as available and due at once.
	c.put(in("app3"), availEntry{})
	c.put(in("app5"), availEntry{checkedAt: now, sql: "SELECT s.toplevel FROM pg_stat_statements s"})

	e, fresh := c.get(in("app1"), now.Add(2*time.Second))
	require.True(t, fresh, "within the recheck interval")
	require.NotEmpty(t, e.reason)
	_, fresh = c.get(in("app1"), now.Add(3*time.Second))
	require.False(t, fresh, "due for a recheck")
	_, fresh = c.get(in("app2"), now.Add(time.Hour))
	require.True(t, fresh, "an available source is trusted until the probe fails on it")
	_, fresh = c.get(in("app3"), now)
	require.False(t, fresh, "a failed check is rechecked on the next run")
	e, fresh = c.get(in("app5"), now.Add(2*time.Second))
	require.True(t, fresh)
	require.Equal(t, e.sql, c.query(in("app5")))
	_, fresh = c.get(in("app5"), now.Add(3*time.Second))
	require.False(t, fresh, "the columns a query is made for are read again after the recheck interval")
	require.Empty(t, c.query(in("app2")), "no columns read: QueryFor applies")

	require.False(t, c.available(1, "app1", "pg_stat_statements"))
	require.True(t, c.available(1, "app2", "pg_stat_statements"))
	require.True(t, c.available(1, "app3", "pg_stat_statements"), "a cluster-wide probe stops after it")
	require.False(t, c.available(1, "app4", "pg_stat_statements"), "never checked")
	require.False(t, c.available(2, "app2", "pg_stat_statements"), "per connection")

	c.forget(1, "app2", "pg_stat_statements")
	require.False(t, c.available(1, "app2", "pg_stat_statements"))
}

func TestAvailabilityCacheSizeHints(t *testing.T) {
	c := newAvailabilityCache(time.Minute)
	k := availKey{1, "app1", "pg_stat_all_tables"}
	require.Zero(t, c.sizeHint(k))
	c.setSize(k, 8000)
	require.Equal(t, 9000, c.sizeHint(k), "an eighth of headroom")
	_, fresh := c.get(k, time.Now())
	require.False(t, fresh, "a size alone says nothing about the source")
	require.False(t, c.available(1, "app1", "pg_stat_all_tables"))

	c.put(k, availEntry{checkedAt: time.Now()})
	require.True(t, c.available(1, "app1", "pg_stat_all_tables"))
	require.Equal(t, 9000, c.sizeHint(k), "put keeps the size")
	c.forget(1, "app1", "pg_stat_all_tables")
	require.False(t, c.available(1, "app1", "pg_stat_all_tables"))
	require.Equal(t, 9000, c.sizeHint(k), "forget keeps the size")

	c.setSize(k, 1<<30)
	require.Equal(t, maxSizeHint, c.sizeHint(k))
}

func TestAvailabilityCacheKeepsOneCopyOfEachQuery(t *testing.T) {
	c := newAvailabilityCache(time.Minute)
	text := func() string { return strings.Repeat("SELECT s.toplevel ", 3) } // a new copy each call
	for conn := range int64(3) {
		c.put(availKey{conn, "app1", "pg_stat_statements"}, availEntry{checkedAt: time.Now(), sql: text()})
	}
	first := c.query(availKey{0, "app1", "pg_stat_statements"})
	for conn := range int64(3) {
		q := c.query(availKey{conn, "app1", "pg_stat_statements"})
		require.Equal(t, text(), q)
		require.Same(t, unsafe.StringData(first), unsafe.StringData(q), "connection %d holds its own copy", conn)
	}

	for i := range maxQueries + 10 {
		c.put(availKey{int64(i), "app2", "pg_stat_statements"}, availEntry{sql: fmt.Sprint("SELECT ", i)})
	}
	require.Len(t, c.queries, maxQueries, "bounded")
	require.Equal(t, fmt.Sprint("SELECT ", maxQueries+5), c.query(availKey{maxQueries + 5, "app2", "pg_stat_statements"}),
		"past the bound a query is kept as it is")
}
