package retention

import (
	"context"
	"log/slog"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/pgcollector/pgcollector/bus"
	"github.com/pgcollector/pgcollector/internal/partition"
	"github.com/pgcollector/pgcollector/internal/pgtest"
	"github.com/pgcollector/pgcollector/internal/store"
	"github.com/pgcollector/pgcollector/probes"

	"github.com/pgcollector/pgcollector/internal/config"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// env is a migrated datastore on a real PostgreSQL and a real embedded
// JetStream, both closed when the test ends.
type env struct {
	ctx  context.Context
	c    *pgtest.Cluster
	pool *pgxpool.Pool
	bus  *bus.Bus
}

func testLog() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func setup(t *testing.T) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	c := pgtest.Start(t, pgtest.Options{})
	pool, err := pgxpool.New(ctx, c.DSN("postgres"))
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	require.NoError(t, store.Migrate(ctx, pool, probes.All))
	cfg := config.Default[bus.Config]()
	cfg.DataDir = t.TempDir()
	cfg.BufferMaxBytes = 64 * bus.MiB
	b, err := bus.Open(ctx, cfg, testLog())
	require.NoError(t, err)
	t.Cleanup(b.Close)
	return &env{ctx: ctx, c: c, pool: pool, bus: b}
}

// newStage builds a stage on e with a short retry delay; now, when set,
// replaces the clock.
func (e *env) newStage(t *testing.T, now func() time.Time) *Stage {
	t.Helper()
	cfg := config.Default[Config]()
	cfg.RetryDelay = 300 * time.Millisecond
	cfg.LockTimeout = 300 * time.Millisecond
	s, err := New(cfg, e.pool, e.bus, testLog())
	require.NoError(t, err)
	if now != nil {
		s.now = now
	}
	return s
}

// start runs s until the test ends and checks that Run returns nil.
func (e *env) start(t *testing.T, s *Stage) {
	t.Helper()
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
}

func (e *env) exec(t *testing.T, sql string, args ...any) {
	t.Helper()
	_, err := e.pool.Exec(e.ctx, sql, args...)
	require.NoError(t, err, sql)
}

// weeksAgo creates the partition of probe n weeks before at and returns its name.
func (e *env) weeksAgo(t *testing.T, probe string, at time.Time, n int) string {
	t.Helper()
	w := at.AddDate(0, 0, -7*n)
	require.NoError(t, store.EnsurePartition(e.ctx, e.pool, probe, w))
	return partition.Name(probe, w)
}

func (e *env) partitions(t *testing.T, probe string) []string {
	t.Helper()
	all, err := store.MetricsPartitions(e.ctx, e.pool)
	require.NoError(t, err)
	return all[probe]
}

func (e *env) count(t *testing.T, sql string) int {
	t.Helper()
	var n int
	require.NoError(t, e.pool.QueryRow(e.ctx, sql).Scan(&n), sql)
	return n
}

// runs counts the recorded retention runs, or returns -1 when the
// datastore cannot say; safe to call from require.Eventually.
func (e *env) runs() int {
	var n int
	if err := e.pool.QueryRow(e.ctx, `SELECT count(*) FROM public.retention_runs`).Scan(&n); err != nil {
		return -1
	}
	return n
}

func (e *env) tick(t *testing.T, period string) {
	t.Helper()
	require.NoError(t, e.bus.PublishTick(e.ctx, bus.Tick{Name: timerName, Period: period, At: time.Now()}))
}

// settled reports whether the retention consumer has nothing left to do;
// safe to call from require.Eventually.
func (e *env) settled() bool {
	cons, err := e.bus.Timers(e.ctx)
	if err != nil {
		return false
	}
	info, err := cons.Info(e.ctx)
	return err == nil && info.NumPending == 0 && info.NumAckPending == 0
}

func sorted(names ...string) []string {
	slices.Sort(names)
	return names
}
