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
