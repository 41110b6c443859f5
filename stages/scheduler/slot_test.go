package scheduler_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/stages/scheduler"
)

func TestSlotsAreStableAndSpread(t *testing.T) {
	base := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	offsets := map[int64]bool{}
	for conn := int64(1); conn <= 50; conn++ {
		off := scheduler.Offset(conn, "pg_stat_database", 300)
		require.GreaterOrEqual(t, off, int64(0))
		require.Less(t, off, int64(300))
		offsets[off] = true

		slot, start := scheduler.SlotAt(base, conn, "pg_stat_database", 300)
		require.False(t, start.After(base))
		require.True(t, base.Sub(start) < 300*time.Second)
		again, _ := scheduler.SlotAt(base.Add(299*time.Second-base.Sub(start)), conn, "pg_stat_database", 300)
		require.Equal(t, slot, again, "same slot until the interval has passed")
		next, _ := scheduler.SlotAt(start.Add(300*time.Second), conn, "pg_stat_database", 300)
		require.Equal(t, slot+1, next)
	}
	require.Greater(t, len(offsets), 25, "50 connections must not all fire on the same second")
}

func TestDatabaseProbesOfAConnectionShareTheirPhase(t *testing.T) {
	base := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	starts := map[time.Time]bool{}
	for conn := int64(1); conn <= 20; conn++ {
		_, tables := scheduler.SlotAt(base, conn, "pg_stat_all_tables", 300)
		_, statements := scheduler.SlotAt(base, conn, "pg_stat_statements", 300)
		require.Equal(t, tables, statements, "the database probes of a connection run as one burst")
		_, hourly := scheduler.SlotAt(base, conn, "pg_extension", 3600)
		require.Zero(t, hourly.Sub(tables)%(300*time.Second), "an hourly database probe joins one of the bursts")
		starts[tables] = true
	}
	require.Greater(t, len(starts), 10, "the bursts of different connections are spread")

	server := map[int64]bool{}
	for _, p := range []string{"pg_replication_slots", "pg_stat_subscription", "pg_stat_connection_security", "pg_database", "pg_node_role"} {
		server[scheduler.Offset(1, p, 300)] = true
	}
	require.Greater(t, len(server), 3, "server probes keep phases of their own")
}
