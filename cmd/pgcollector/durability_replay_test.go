package main

import (
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestReplay drives `pgcollector replay` through the binary: next to a
// running collector (through its PGC_NATS_LISTEN server), refused when the
// running collector's store cannot be reached safely, on a stopped
// collector's data directory, with filters, and with --force after rows
// were deleted.
func TestReplay(t *testing.T) {
	r := newDurableRig(t)
	r.c.OnlyProbes(t, 1, "pg_stat_wal", "pg_stat_database")
	r.start("")
	require.Eventually(t, func() bool { return r.samples() >= 6 }, 60*time.Second, 500*time.Millisecond)
	// Pause collection so that the counts hold still.
	r.pause() // the scheduler sees the change within PGC_CATALOG_REFRESH
	r.waitDrained(r.js(), time.Minute)
	tables := []string{"pg_stat_wal", "pg_stat_database"}
	full := r.rowCounts(tables...)
	replay := func(vars []string, args ...string) string {
		t.Helper()
		code, out, errOut := r.pgcollector(vars, append([]string{"replay"}, args...)...)
		require.Equal(t, 0, code, "replay %v: %s%s", args, out, errOut)
		return out
	}

	// Running, listening: replay goes through the collector's server.
	out := replay(nil, "--since", "30m")
	require.Contains(t, out, " 0 batches stored (0 rows)")
	require.Equal(t, full, r.rowCounts(tables...))

	// Running, and its server not reachable from outside: refused.
	code, out, errOut := r.pgcollector([]string{"PGC_NATS_LISTEN="}, "replay", "--since", "30m")
	require.Equal(t, 1, code, "%s%s", out, errOut)
	require.Contains(t, errOut, "in use by a running pgcollector")
	require.Equal(t, 0, r.end(syscall.SIGTERM, 20*time.Second))

	// Stopped: replay opens the store itself.
	out = replay(nil, "--since", "30m")
	require.Contains(t, out, " 0 batches stored (0 rows)")

	// Rows deleted behind the ledger's back come back only with --force.
	r.c.Exec(t, `DELETE FROM metrics.pg_stat_wal`)
	r.c.Exec(t, `DELETE FROM metrics.pg_stat_database WHERE database_name = 'app1'`)
	replay(nil, "--since", "30m")
	require.Zero(t, r.rowCounts(tables...)["pg_stat_wal"], "already ingested: skipped without --force")

	// Filters: another connection's batches, and the other probe's, stay out.
	out = replay(nil, "--since", "30m", "--force", "--connection", strconv.FormatInt(r.id+1000, 10))
	require.Contains(t, out, " 0 batches stored (0 rows)")
	replay(nil, "--since", "30m", "--force", "--probe", "pg_stat_wal", "--connection", "mon")
	got := r.rowCounts(tables...)
	require.Equal(t, full["pg_stat_wal"], got["pg_stat_wal"], "pg_stat_wal restored")
	require.Less(t, got["pg_stat_database"], full["pg_stat_database"], "pg_stat_database not replayed")

	// Everything, twice: each sample is replaced, never doubled.
	for range 2 {
		replay(nil, "--since", "30m", "--force")
		require.Equal(t, full, r.rowCounts(tables...))
		r.requireNoDuplicates()
	}
	// --until before the first batch selects nothing.
	out = replay(nil, "--since", "30m", "--until", "29m", "--force")
	require.Contains(t, out, " 0 batches stored (0 rows)")

	for _, args := range [][]string{{}, {"--since", "30m", "--probe", "no_such_probe"}, {"--since", "30m", "--until", "soon"}} {
		code, _, errOut := r.pgcollector(nil, append([]string{"replay"}, args...)...)
		require.Equal(t, 2, code, "replay %v: %s", args, errOut)
	}
}
