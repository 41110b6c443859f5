package main

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/internal/e2e"
	"github.com/pgcollector/pgcollector/internal/pgtest"
)

// TestChangeTrackedSnapshotStoredOnlyWhenChanged collects pg_settings every
// 2 s. While nothing changes, the collector keeps running it (last_success
// moves on) but stores the snapshot once; after ALTER SYSTEM and a reload it
// stores exactly one more, complete snapshot, and then again nothing.
func TestChangeTrackedSnapshotStoredOnlyWhenChanged(t *testing.T) {
	ctx := context.Background()
	const password = "track-Pw-52"
	c := e2e.NewCollector(t, "PGC_CATALOG_REFRESH=1s")
	mon := pgtest.Start(t, pgtest.Options{Version: pgtest.Versions()[0]})
	require.NoError(t, e2e.MonitorRole(ctx, mon, "pgc_monitor", password))
	id := c.AddConnection(t, "mon", mon, "pgc_monitor", password)
	c.OnlyProbes(t, 2, "pg_settings")
	c.Start(t)

	snapshots := func() []time.Time {
		return e2e.Rows[time.Time](t, c, `SELECT DISTINCT collected_at FROM metrics.pg_settings
			WHERE connection_id = $1 ORDER BY 1`, id)
	}
	lastSuccess := func() time.Time {
		return e2e.Value[time.Time](t, c, `SELECT coalesce(max(last_success), '-infinity') FROM public.probe_state
			WHERE connection_id = $1 AND probe = 'pg_settings'`, id)
	}
	// runsAfter waits until the probe has succeeded twice more after at:
	// two more runs whose snapshots were compared.
	runsAfter := func(at time.Time) {
		t.Helper()
		require.EventuallyWithT(t, func(ct *assert.CollectT) {
			assert.GreaterOrEqual(ct, lastSuccess().Sub(at), 3*time.Second, "two more runs of pg_settings")
		}, 30*time.Second, 250*time.Millisecond)
	}

	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		assert.Len(ct, snapshots(), 1)
	}, 30*time.Second, 250*time.Millisecond)
	firstAt := snapshots()[0]
	runsAfter(firstAt)
	require.Equal(t, []time.Time{firstAt}, snapshots(), "an unchanged pg_settings is stored once")
	size := e2e.Value[int](t, c, `SELECT count(*) FROM metrics.pg_settings WHERE connection_id = $1`, id)
	require.Greater(t, size, 100, "the snapshot holds every setting")

	mon.Exec(t, "postgres", "ALTER SYSTEM SET work_mem = '7MB'", "SELECT pg_reload_conf()")
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		assert.Len(ct, snapshots(), 2)
	}, 30*time.Second, 250*time.Millisecond)
	secondAt := snapshots()[1]
	require.Equal(t, "7168", e2e.Value[string](t, c, `SELECT setting FROM metrics.pg_settings
		WHERE connection_id = $1 AND collected_at = $2 AND name = 'work_mem'`, id, secondAt))
	require.Equal(t, size, e2e.Value[int](t, c, `SELECT count(*) FROM metrics.pg_settings
		WHERE connection_id = $1 AND collected_at = $2`, id, secondAt), "a changed snapshot is stored whole")

	runsAfter(secondAt)
	require.Equal(t, []time.Time{firstAt, secondAt}, snapshots(), "nothing changed after the reload")
	require.Equal(t, 1, e2e.Value[int](t, c, `SELECT count(*) FROM public.snapshot_state
		WHERE connection_id = $1 AND probe = 'pg_settings' AND collected_at = $2`, id, secondAt))
}
