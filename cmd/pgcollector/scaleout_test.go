package main

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/internal/e2e"
	"github.com/pgcollector/pgcollector/internal/natstest"
	"github.com/pgcollector/pgcollector/internal/pgtest"
)

// The faulted window of the scale-out acceptance flow (issue 7) and the
// share of expected samples that must land in it.
const (
	scaleoutInterval = 5 * time.Second
	scaleoutWindow   = 100 * time.Second
	scaleoutMinShare = 0.80
)

// TestScaleOutSurvivesFetcherAndNodeLoss is the acceptance flow of issue 7.
// A real 3-node NATS JetStream cluster (separate nats-server processes)
// carries streams with 3 replicas; the scheduler, two fetchers, a sink and
// retention run as separate pgcollector processes listing all three nodes
// in PGC_NATS_URL; two monitored servers are sampled with pg_stat_wal every
// 5 s. During a 100 s window one fetcher is SIGKILLed; then the NATS node
// most processes are connected to, made leader of the job and batch streams
// and their consumers, is SIGKILLed; the fetcher is started again while
// the node is still down (so it declares the replicated streams against a
// degraded cluster), and the node is restarted. At least 80 % of the
// expected samples of each connection must land, and none twice.
func TestScaleOutSurvivesFetcherAndNodeLoss(t *testing.T) {
	ctx := context.Background()
	nats := natstest.Start(t, natstest.Options{})
	c := e2e.NewCollector(t,
		"PGC_NATS_URL="+nats.URL(),
		"PGC_STREAM_REPLICAS=3",
		// Every node reserves the stream's MaxBytes on its disk.
		"PGC_BUFFER_MAX_BYTES=256MiB",
		"PGC_LOG_LEVEL=info",
	)
	// Two monitored servers: a cluster of its own, and the datastore's.
	mon := pgtest.Start(t, pgtest.Options{})
	const password = "scaleout-Pw-1"
	require.NoError(t, e2e.MonitorRole(ctx, mon, "pgc_monitor", password))
	require.NoError(t, e2e.MonitorRole(ctx, c.Store, "pgc_monitor", password))
	connA := c.AddConnection(t, "mon-a", mon, "pgc_monitor", password)
	connB := c.AddConnection(t, "mon-b", c.Store, "pgc_monitor", password)
	c.OnlyProbes(t, int(scaleoutInterval/time.Second), "pg_stat_wal")

	procs := newScaleoutProcs(t, c)
	procs.start("scheduler", "scheduler")
	procs.start("fetcher-1", "fetcher")
	procs.start("fetcher-2", "fetcher")
	procs.start("sink", "sink")
	procs.start("retention", "retention")

	// Warm-up: both connections are collected before the window opens.
	warm, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	since := time.Now()
	require.True(t, scaleoutWaitFor(warm, func() bool {
		n := scaleoutSamples(t, c, since, time.Now().Add(time.Hour))
		return n[connA] >= 2 && n[connB] >= 2
	}), "no pg_stat_wal samples for both connections within 90 s of start")

	start := time.Now()
	end := start.Add(scaleoutWindow)
	at := func(d time.Duration) { time.Sleep(time.Until(start.Add(d))) }

	at(10 * time.Second)
	procs.kill("fetcher-1")
	t.Logf("%s: fetcher-1 killed", time.Since(start).Round(time.Second))

	at(20 * time.Second)
	node := scaleoutVictim(t, nats)
	at(25 * time.Second)
	require.NoError(t, node.Kill())
	t.Logf("%s: NATS node %s killed", time.Since(start).Round(time.Second), node.Name)

	at(40 * time.Second)
	procs.start("fetcher-1", "fetcher")
	t.Logf("%s: fetcher-1 started again, node %s still down", time.Since(start).Round(time.Second), node.Name)

	at(75 * time.Second)
	restartCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	require.NoError(t, node.Restart(restartCtx))
	t.Logf("%s: NATS node %s back and healthy", time.Since(start).Round(time.Second), node.Name)

	// Samples of the window may still be on their way: a batch whose
	// acknowledgement was lost with the node is redelivered after the sink
	// consumer's 60 s AckWait. Wait for them, but no longer than that.
	expected := int(scaleoutWindow / scaleoutInterval)
	need := int(scaleoutMinShare*float64(expected) + 0.999)
	at(scaleoutWindow)
	drain, cancel := context.WithTimeout(ctx, 70*time.Second)
	defer cancel()
	scaleoutWaitFor(drain, func() bool {
		n := scaleoutSamples(t, c, start, end)
		return n[connA] >= expected && n[connB] >= expected
	})
	got := scaleoutSamples(t, c, start, end)
	t.Logf("pg_stat_wal samples in the faulted %s window: mon-a %d, mon-b %d of %d expected (need %d)",
		scaleoutWindow, got[connA], got[connB], expected, need)
	require.GreaterOrEqual(t, got[connA], need, "mon-a samples in the faulted window")
	require.GreaterOrEqual(t, got[connB], need, "mon-b samples in the faulted window")
	require.LessOrEqual(t, got[connA], expected+1, "mon-a: more samples than slots")
	require.LessOrEqual(t, got[connB], expected+1, "mon-b: more samples than slots")

	scaleoutRequireNoDuplicates(t, c, connA, connB)
	scaleoutRequireReconnects(t, procs)
}
