package main

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/bus"
	"github.com/pgcollector/pgcollector/internal/e2e"
	"github.com/pgcollector/pgcollector/internal/pgtest"
)

// TestAcceptanceOverload runs a collector whose fetchers cannot keep up,
// through the built binary: one worker (PGC_FETCHER_WORKERS=1), four
// connections at 2 s, and pg_extension held on every run until its
// lock_timeout (3 s) by a session that locks pg_extension in app1. The
// scheduler keeps at most one waiting job per connection and probe: the
// job queue stays at most one per pair, the slots it leaves out are
// counted in jobs_skipped_total and logged, and every connection's
// pg_connectivity is still sampled, late, instead of its jobs waiting
// behind the slow ones until they are stale: no job is stale.
func TestAcceptanceOverload(t *testing.T) {
	ctx := context.Background()
	const password = "overload-Pw-7"
	addr, natsAddr := freeAddr(t), freeAddr(t)
	c := e2e.NewCollector(t, "PGC_HTTP_ADDR="+addr, "PGC_NATS_LISTEN="+natsAddr, "PGC_CATALOG_REFRESH=1s",
		"PGC_FETCHER_WORKERS=1", "PGC_PROBE_LOCK_TIMEOUT=3s")
	mon := pgtest.Start(t, pgtest.Options{})
	require.NoError(t, e2e.MonitorRole(ctx, mon, "pgc_monitor", password, "app1"))
	var ids []int64
	for i := range 4 {
		ids = append(ids, c.AddConnection(t, fmt.Sprintf("mon%d", i+1), mon, "pgc_monitor", password))
	}
	probeNames := []string{"pg_connectivity", "pg_stat_database", "pg_extension"}
	c.OnlyProbes(t, 2, probeNames...)
	pairs := len(ids) * len(probeNames)

	// Someone holds pg_extension in app1 for the whole test.
	locker, err := pgx.Connect(ctx, mon.DSN("app1"))
	require.NoError(t, err)
	t.Cleanup(func() { locker.Close(context.Background()) })
	_, err = locker.Exec(ctx, "BEGIN; LOCK TABLE pg_catalog.pg_extension IN ACCESS EXCLUSIVE MODE")
	require.NoError(t, err)

	proc := c.Start(t)
	js := jetStreamAt(t, natsAddr)
	maxWaiting := uint64(0)
	deadline := time.Now().Add(75 * time.Second)
	for time.Now().Before(deadline) {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		cons, err := js.Consumer(cctx, bus.StreamJobs, bus.ConsumerFetcher)
		cancel()
		if err == nil {
			maxWaiting = max(maxWaiting, cons.CachedInfo().NumPending)
		}
		time.Sleep(time.Second)
	}
	require.LessOrEqual(t, maxWaiting, uint64(pairs), "jobs waiting in PGC_JOBS: at most one per connection and probe")

	_, body := httpGet(t, "http://"+addr+"/metrics")
	skipped := metricValue(t, body, `pgcollector_jobs_skipped_total{probe="pg_connectivity"}`)
	require.Positive(t, skipped, "slots of pg_connectivity skipped while its job waited")
	require.Contains(t, body, "pgcollector_samples_dropped_total 0\n")
	require.Positive(t, metricValue(t, body, `pgcollector_probe_runs_total{probe="pg_extension",result="error"}`),
		"pg_extension timed out on the lock and was recorded as an error")
	// Each pair's job waits alone and runs however late, so none is
	// dropped as stale, the first ones of the fresh start included.
	stale := metricValueOr(body, `pgcollector_jobs_stale_total{probe="pg_connectivity"}`)
	require.Zero(t, stale, "stale jobs of pg_connectivity")
	t.Logf("max jobs waiting %d for %d pairs; skipped slots of pg_connectivity %.0f", maxWaiting, pairs, skipped)

	// Every connection got pg_connectivity samples in the last 45 s,
	// although a round of the worker over all pairs takes about 12 s.
	for _, id := range ids {
		n := e2e.Value[int](t, c, `SELECT count(*)::int FROM metrics.pg_connectivity
			WHERE connection_id = $1 AND collected_at > now() - interval '45 seconds'`, id)
		require.GreaterOrEqual(t, n, 2, "pg_connectivity samples of connection %d in the last 45 s", id)
	}
	require.Eventually(t, func() bool { return strings.Contains(proc.Output(), "fetchers are behind") },
		10*time.Second, 500*time.Millisecond, "the scheduler logs that the fetchers are behind")
}

// metricValue reads one sample of the Prometheus text exposition body; the
// series must be there.
func metricValue(t *testing.T, body, series string) float64 {
	t.Helper()
	v, ok := metricSample(body, series)
	require.True(t, ok, "series %s in /metrics", series)
	return v
}

// metricValueOr is metricValue for a series that may be absent (0): a
// labelled counter has no series until its first event.
func metricValueOr(body, series string) float64 {
	v, _ := metricSample(body, series)
	return v
}

// metricSample finds series in body and parses its value.
func metricSample(body, series string) (float64, bool) {
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(body)
	if m == nil {
		return 0, false
	}
	v, err := strconv.ParseFloat(m[1], 64)
	return v, err == nil
}
