package main

import (
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/internal/e2e"
)

// TestBufferFull runs the collector with the smallest batch buffer (1 MiB)
// and large, frequent probes, then stops the datastore: the buffer fills
// with unacknowledged batches, collection pauses with a loud error and the
// buffer_full gauge, nothing is dropped, and once the datastore is back
// the backlog drains and collection resumes by itself.
func TestBufferFull(t *testing.T) {
	addr := freeAddr(t)
	r := newDurableRig(t, "PGC_BUFFER_MAX_BYTES=1MiB", "PGC_HTTP_ADDR="+addr, "PGC_SINK_MAX_BACKOFF=2s")
	// Tens of kilobytes per second: pg_settings (a few hundred rows,
	// published in full each run) and the table statistics of each
	// database.
	r.c.OnlyProbes(t, 1, "pg_settings", "pg_stat_all_tables", "pg_stat_all_indexes", "pg_stat_wal")
	r.start("")
	require.Eventually(t, func() bool { return r.samples() >= 2 }, 60*time.Second, 500*time.Millisecond)

	require.NoError(t, r.c.Store.Stop())
	t0 := time.Now()
	require.Eventually(t, func() bool {
		return strings.Contains(r.proc.Output(), "batch buffer PGC_BATCHES is full of unacknowledged data")
	}, 2*time.Minute, 500*time.Millisecond, "the fetcher pauses collection loudly")
	t.Logf("buffer full %s after the datastore stopped", time.Since(t0).Round(time.Second))
	_, metrics := httpGet(t, "http://"+addr+"/metrics")
	require.Contains(t, metrics, "pgcollector_buffer_full 1\n")
	// Stay full for a while: jobs are requeued, then dropped as stale,
	// never a batch.
	time.Sleep(5 * time.Second)
	require.Equal(t, 1, strings.Count(r.proc.Output(), "is full of unacknowledged data"), "logged once per pause")

	require.NoError(t, r.c.Store.Restart())
	back := time.Now()
	require.Eventually(t, func() bool {
		return strings.Contains(r.proc.Output(), "collection resumed")
	}, 2*time.Minute, 500*time.Millisecond, "collection resumes by itself")
	t.Logf("collection resumed %s after the datastore restarted", time.Since(back).Round(time.Second))
	require.Eventually(t, func() bool {
		return e2e.Value[int](t, r.c, `SELECT count(*)::int FROM metrics.pg_stat_wal WHERE collected_at > $1`, back) >= 3
	}, time.Minute, 500*time.Millisecond, "new samples after the pause")
	code, metrics := httpGet(t, "http://"+addr+"/metrics")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, metrics, "pgcollector_buffer_full 0\n")
	require.Contains(t, metrics, "pgcollector_samples_dropped_total 0\n")
	require.Contains(t, metrics, `pgcollector_poison_messages_total{stage="sink"} 0`)

	// Pause collection, let the sink finish, and check that every batch
	// the buffer accepted reached the datastore.
	r.pause()
	js := r.js()
	r.waitDrained(js, time.Minute)
	t.Logf("drained %s after the datastore restarted", time.Since(back).Round(time.Second))
	r.requireNoDuplicates()
	checked := r.requireEveryBatchStored(js)
	t.Logf("%d batch parts left in the 1 MiB buffer, all stored", checked)
	require.Equal(t, 0, r.end(syscall.SIGTERM, 20*time.Second))
}
