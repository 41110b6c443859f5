package catalog_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/internal/catalog"
	"github.com/pgcollector/pgcollector/internal/pgtest"
	"github.com/pgcollector/pgcollector/internal/store"
	"github.com/pgcollector/pgcollector/probes"
)

// A collector restarted while the datastore is down must start from the
// configuration it saw last.
func TestCacheSurvivesRestartDuringDatastoreOutage(t *testing.T) {
	ctx := context.Background()
	c := pgtest.Start(t, pgtest.Options{})
	pool, err := pgxpool.New(ctx, c.DSN("postgres"))
	require.NoError(t, err)
	defer pool.Close()
	require.NoError(t, store.Migrate(ctx, pool, probes.All))
	_, err = catalog.AddConnection(ctx, pool, catalog.Connection{Name: "a", Host: "127.0.0.1", Port: 5432,
		Database: "postgres", Username: "u", SSLMode: "disable"})
	require.NoError(t, err)

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	file := filepath.Join(t.TempDir(), "catalog.json")
	first := catalog.NewCache(pool, log, time.Second)
	first.PersistTo(file)
	runFor(t, first, func() bool { return first.Loaded() })
	require.Len(t, first.Connections(), 1)

	require.NoError(t, c.Stop())
	second := catalog.NewCache(pool, log, time.Second)
	second.PersistTo(file)
	runFor(t, second, func() bool { return second.Loaded() })
	require.Len(t, second.Connections(), 1, "loaded from the saved copy")
	p, ok := second.Probe("pg_stat_activity")
	require.True(t, ok)
	require.Equal(t, 60, p.IntervalSeconds)
}

func runFor(t *testing.T, c *catalog.Cache, done func() bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { _ = c.Run(ctx); close(stopped) }()
	require.Eventually(t, done, 20*time.Second, 50*time.Millisecond)
	cancel()
	<-stopped
}
