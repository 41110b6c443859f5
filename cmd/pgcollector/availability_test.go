package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/internal/e2e"
	"github.com/pgcollector/pgcollector/internal/pgtest"
)

// availabilityRow is one row of public.probe_availability.
type availabilityRow struct {
	Database  string
	Probe     string
	Available bool
	Reason    *string
	Checked   time.Time
}

// TestAvailabilityPerDatabaseAndPickedUpWithoutRestart runs the collector
// against a server where pg_stat_statements exists in one database (app2)
// but not in the others, and system_stats nowhere. It proves that
// availability is decided per database and recorded with a reason, that
// installing the extensions later is picked up by the running collector
// within the recheck interval, and that an unavailable probe is data in
// the datastore, not an error in the log on every run.
func TestAvailabilityPerDatabaseAndPickedUpWithoutRestart(t *testing.T) {
	ctx := context.Background()
	const password = "avail-Pw-31"
	c := e2e.NewCollector(t, "PGC_AVAILABILITY_RECHECK=3s", "PGC_CATALOG_REFRESH=1s")
	mon := pgtest.Start(t, pgtest.Options{Version: pgtest.Versions()[0], Settings: map[string]string{
		"shared_preload_libraries": "pg_stat_statements",
	}})
	require.NoError(t, e2e.MonitorRole(ctx, mon, "pgc_monitor", password, "app1", "app2"))
	// app2 has the extension at 1.8, as pg_upgrade from PostgreSQL 13
	// leaves it: no toplevel column until it is updated.
	mon.Exec(t, "app2", "CREATE EXTENSION pg_stat_statements VERSION '1.8'", "SELECT count(*) FROM pg_class")
	id := c.AddConnection(t, "mon", mon, "pgc_monitor", password)
	c.OnlyProbes(t, 5, "pg_stat_statements", "pg_sys_os_info")
	proc := c.Start(t)

	avail := func() map[string]availabilityRow {
		rows := e2e.Rows[availabilityRow](t, c, `SELECT database_name, probe, available, reason, last_checked
			FROM public.probe_availability WHERE connection_id = $1`, id)
		out := map[string]availabilityRow{}
		for _, r := range rows {
			out[r.Probe+"@"+r.Database] = r
		}
		return out
	}
	requireState := func(ct *assert.CollectT, m map[string]availabilityRow, key string, available bool, reason string) {
		r, ok := m[key]
		if !assert.True(ct, ok, "no probe_availability row for %s", key) {
			return
		}
		assert.Equal(ct, available, r.Available, key)
		if reason == "" {
			assert.Nil(ct, r.Reason, key)
		} else if assert.NotNil(ct, r.Reason, key) {
			assert.Equal(ct, reason, *r.Reason, key)
		}
	}

	// pg_stat_statements is cluster-wide: the fetcher checks the databases
	// in order (the connection's own first) and collects from the first
	// that has the extension, so postgres and app1 are recorded as
	// unavailable and app2 as available.
	var first map[string]availabilityRow
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		first = avail()
		requireState(ct, first, "pg_stat_statements@postgres", false, "extension pg_stat_statements not installed")
		requireState(ct, first, "pg_stat_statements@app1", false, "extension pg_stat_statements not installed")
		requireState(ct, first, "pg_stat_statements@app2", true, "")
		requireState(ct, first, "pg_sys_os_info@", false, "extension system_stats not installed")
	}, 30*time.Second, 250*time.Millisecond)
	dbs := e2e.Rows[string](t, c, `SELECT DISTINCT database_name FROM metrics.pg_stat_statements
		WHERE connection_id = $1`, id)
	require.Equal(t, []string{"app2"}, dbs, "statements are collected where the extension is, once per server")
	require.Zero(t, e2e.Value[int](t, c, `SELECT count(*) FROM metrics.pg_stat_statements
		WHERE connection_id = $1 AND toplevel IS NOT NULL`, id), "1.8 has no toplevel")

	// The fetcher reads the view's columns again within the recheck
	// interval: after the extension is updated, toplevel is collected.
	mon.Exec(t, "app2", "ALTER EXTENSION pg_stat_statements UPDATE")
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		assert.Positive(ct, e2e.Value[int](t, c, `SELECT count(*) FROM metrics.pg_stat_statements
			WHERE connection_id = $1 AND toplevel IS NOT NULL`, id))
	}, 25*time.Second, 250*time.Millisecond)
	// It got there with the query made for the view's columns, not with
	// the costlier to_jsonb lookups that work without knowing them.
	admin, err := pgx.Connect(ctx, mon.DSN("app2"))
	require.NoError(t, err)
	defer admin.Close(ctx)
	var adapted, jsonb int
	require.NoError(t, admin.QueryRow(ctx, `SELECT count(*) FILTER (WHERE query LIKE '%s.toplevel::boolean AS toplevel%'),
		count(*) FILTER (WHERE query LIKE '%to_jsonb(s) j%')
		FROM pg_stat_statements WHERE userid = 'pgc_monitor'::regrole`).Scan(&adapted, &jsonb))
	require.Positive(t, adapted)
	require.Zero(t, jsonb)
	require.Zero(t, e2e.Value[int](t, c, `SELECT count(*) FROM metrics.pg_sys_os_info`))

	// The unavailable probes are rechecked every 3 s while the collector
	// keeps running: their last_checked moves on.
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		now := avail()
		for _, k := range []string{"pg_stat_statements@postgres", "pg_sys_os_info@"} {
			assert.True(ct, now[k].Checked.After(first[k].Checked), "%s rechecked", k)
			assert.False(ct, now[k].Available, k)
		}
	}, 20*time.Second, 250*time.Millisecond)

	// Install both extensions in postgres, the connection's database:
	// within the recheck interval plus one collection interval both are
	// collected there, without a restart.
	require.NoError(t, e2e.InstallSystemStats(ctx, mon, "postgres"))
	mon.Exec(t, "postgres", "CREATE EXTENSION pg_stat_statements")
	installed := time.Now()
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		m := avail()
		requireState(ct, m, "pg_stat_statements@postgres", true, "")
		requireState(ct, m, "pg_sys_os_info@", true, "")
		assert.Positive(ct, e2e.Value[int](t, c, `SELECT count(*) FROM metrics.pg_sys_os_info WHERE connection_id = $1`, id))
		assert.Positive(ct, e2e.Value[int](t, c, `SELECT count(*) FROM metrics.pg_stat_statements
			WHERE connection_id = $1 AND database_name = 'postgres'`, id))
	}, 25*time.Second, 250*time.Millisecond)
	t.Logf("extensions picked up %s after installing them", time.Since(installed).Round(time.Second))
	// From now on the statements come from postgres only, never from two
	// databases in one run.
	require.Zero(t, e2e.Value[int](t, c, `SELECT count(*) FROM (SELECT collected_at FROM metrics.pg_stat_statements
		WHERE connection_id = $1 GROUP BY collected_at HAVING count(DISTINCT database_name) > 1) x`, id))

	// Unavailability was recorded, never logged as a failure, and never
	// counted as a probe error.
	for _, line := range strings.Split(proc.Output(), "\n") {
		if strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR") {
			require.NotContains(t, line, "pg_stat_statements", "logged: %s", line)
			require.NotContains(t, line, "pg_sys_os_info", "logged: %s", line)
		}
	}
	require.Zero(t, e2e.Value[int](t, c, `SELECT count(*) FROM public.probe_state
		WHERE connection_id = $1 AND last_error IS NOT NULL`, id))
}
