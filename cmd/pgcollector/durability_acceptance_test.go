package main

import (
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/bus"
	"github.com/pgcollector/pgcollector/internal/e2e"
	"github.com/pgcollector/pgcollector/stages/scheduler"
)

// TestAcceptanceDurability is the acceptance flow of issue 4, through the
// built binary: pg_stat_wal, pg_stat_database and pg_connectivity at 5 s;
// the datastore stopped for 60 s mid-run and restarted; the collector
// killed with SIGKILL and restarted on the same PGC_DATA_DIR. Then every
// 5 s slot of pg_stat_wal of the outage has its sample stored, no sample
// is stored twice, every batch JetStream accepted is in the datastore, and
// `replay --since 30m` adds no row.
func TestAcceptanceDurability(t *testing.T) {
	const interval = 5
	r := newDurableRig(t)
	r.c.OnlyProbes(t, interval, "pg_stat_wal", "pg_stat_database", "pg_connectivity")
	r.start("")
	require.Eventually(t, func() bool { return r.samples() >= 3 }, 60*time.Second, 500*time.Millisecond,
		"three pg_stat_wal samples before the outage")

	down := time.Now()
	require.NoError(t, r.c.Store.Stop())
	// The collector goes on collecting into PGC_BATCHES meanwhile.
	js := r.js()
	buffered := func() uint64 {
		c, err := js.Consumer(t.Context(), bus.StreamBatches, bus.ConsumerSink)
		require.NoError(t, err)
		return c.CachedInfo().NumPending + uint64(c.CachedInfo().NumAckPending)
	}
	time.Sleep(60 * time.Second)
	require.GreaterOrEqual(t, buffered(), uint64(60/interval), "batches buffered during the outage")
	require.NoError(t, r.c.Store.Restart())
	up := time.Now()

	// Killed while it drains the backlog, restarted on the same data
	// directory: what it committed but did not acknowledge comes back after
	// AckWait and is skipped by the ledger.
	time.Sleep(2 * time.Second)
	r.end(syscall.SIGKILL, 10*time.Second)
	r.start("")

	// Every slot that began and ended while the datastore was down.
	first, _ := scheduler.SlotAt(down, r.id, "pg_stat_wal", interval)
	last, _ := scheduler.SlotAt(up, r.id, "pg_stat_wal", interval)
	var want []string
	for slot := first + 1; slot < last; slot++ {
		want = append(want, bus.BatchID(r.id, "pg_stat_wal", slot, ""))
	}
	require.GreaterOrEqual(t, len(want), 60/interval-2)
	var missing []string
	require.Eventually(t, func() bool {
		// A slot counts when the ledger has its batch and the metrics
		// table its row, at the collection time the ledger kept.
		stored := e2e.Rows[string](t, r.c, `SELECT l.batch_id FROM public.ingest_ledger l
			WHERE l.batch_id = ANY($1) AND EXISTS (SELECT 1 FROM metrics.pg_stat_wal m
				WHERE m.connection_id = $2 AND m.collected_at = l.collected_at)`, want, r.id)
		missing = without(want, stored)
		return len(missing) == 0
	}, 3*time.Minute, time.Second, "pg_stat_wal samples of the outage stored; missing: %v", &missing)

	// Collection stops before the last checks, so that no batch is
	// published after them and before SIGTERM: such a batch would wait in
	// the buffer for the next start, and the replay below would store it.
	r.pause()
	js = r.js()
	r.waitDrained(js, 2*time.Minute)
	r.requireNoDuplicates()
	checked := r.requireEveryBatchStored(js)
	t.Logf("outage %s: %d slots of pg_stat_wal, %d batch parts in PGC_BATCHES all stored",
		up.Sub(down).Round(time.Second), len(want), checked)
	require.Equal(t, 0, r.end(syscall.SIGTERM, 20*time.Second), "exit after SIGTERM")

	tables := []string{"pg_stat_wal", "pg_stat_database", "pg_connectivity"}
	before := r.rowCounts(tables...)
	code, out, errOut := r.pgcollector(nil, "replay", "--since", "30m")
	require.Equal(t, 0, code, "replay: %s%s", out, errOut)
	require.Contains(t, out, " 0 batches stored (0 rows)", out)
	require.Equal(t, before, r.rowCounts(tables...), "replay --since 30m adds no row")
	skipped := strings.SplitN(strings.SplitN(out, " skipped (already ingested)", 2)[0], "(0 rows), ", 2)
	require.Len(t, skipped, 2, out)
	n, err := strconv.Atoi(skipped[1])
	require.NoError(t, err, out)
	require.Positive(t, n, "replay saw the ingested batches: %s", out)
}

// without returns the elements of want not in have.
func without(want, have []string) []string {
	got := map[string]bool{}
	for _, h := range have {
		got[h] = true
	}
	var out []string
	for _, w := range want {
		if !got[w] {
			out = append(out, w)
		}
	}
	return out
}
