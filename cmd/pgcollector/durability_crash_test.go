package main

import (
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestKillBetweenCommitAndAck kills the all-in-one process with SIGKILL at
// the worst moment, three times in a row: right after a sink transaction
// committed and before its messages were acknowledged (a build with the
// pgc_faults tag does that on PGC_SINK_FAULT_AFTER_COMMIT). Restarted on
// the same data directory, the collector gets those messages again, the
// ledger skips them, and nothing is lost or stored twice.
func TestKillBetweenCommitAndAck(t *testing.T) {
	faulty := buildFaultBinary(t)
	r := newDurableRig(t)
	r.c.OnlyProbes(t, 1, "pg_stat_wal", "pg_stat_database", "pg_connectivity")

	for _, after := range []string{"3", "1", "2"} {
		r.start(faulty, "PGC_SINK_FAULT_AFTER_COMMIT="+after)
		code := r.end(0, 60*time.Second) // it kills itself
		require.Equal(t, -1, code, "killed by a signal")
		require.NotContains(t, r.ended[len(r.ended)-1], "pgcollector stopped")
	}
	require.Positive(t, r.samples(), "the killed runs committed samples")

	r.start("", "PGC_LOG_LEVEL=debug")
	js := r.js()
	// No new batches from here on, so the buffer can be seen empty: with
	// three probes every second a slow machine seldom shows a moment
	// with nothing in flight. What the killed runs held comes back after
	// the consumer's AckWait.
	r.pause()
	r.waitDrained(js, 2*time.Minute)
	r.requireNoDuplicates()
	checked := r.requireEveryBatchStored(js)
	require.Equal(t, 0, r.end(syscall.SIGTERM, 20*time.Second))

	// The restarted sink met committed batches again and skipped them.
	out := r.ended[len(r.ended)-1]
	dups := regexp.MustCompile(`msg=flushed .*duplicates=[1-9]`).FindAllString(out, -1)
	require.NotEmpty(t, dups, "the restarted sink skipped redelivered batches as duplicates")
	t.Logf("%d batch parts stored, %d flushes met duplicates", checked, len(dups))
	require.False(t, strings.Contains(out, "terminated poison"), "nothing terminated")
}
