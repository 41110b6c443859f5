package main

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/internal/e2e"
	"github.com/pgcollector/pgcollector/internal/pgtest"
)

// TestOtherDatabaseSessionsClosedBetweenBursts runs the binary with
// PGC_MONITORED_OTHER_DB_IDLE_TIMEOUT=2s and the database probes every
// 10 s, watching the monitored server's pg_stat_activity: the session to
// the connection's own database (postgres) is held throughout, the one to
// app1 exists for the bursts only (a new one each burst), and app1 is
// still sampled every burst.
func TestOtherDatabaseSessionsClosedBetweenBursts(t *testing.T) {
	ctx := context.Background()
	const password = "sessions-Pw-3"
	c := e2e.NewCollector(t, "PGC_CATALOG_REFRESH=1s", "PGC_MONITORED_OTHER_DB_IDLE_TIMEOUT=2s")
	mon := pgtest.Start(t, pgtest.Options{})
	require.NoError(t, e2e.MonitorRole(ctx, mon, "pgc_monitor", password, "app1"))
	id := c.AddConnection(t, "mon", mon, "pgc_monitor", password)
	c.OnlyProbes(t, 10, "pg_connectivity", "pg_stat_database", "pg_stat_all_tables")

	watch, err := pgx.Connect(ctx, mon.DSN("postgres"))
	require.NoError(t, err)
	t.Cleanup(func() { watch.Close(context.Background()) })
	sessions := func() map[string]int {
		rows, err := watch.Query(ctx, `SELECT datname, count(*)::int FROM pg_stat_activity
			WHERE application_name = 'pgcollector' GROUP BY datname`)
		require.NoError(t, err)
		out := map[string]int{}
		for rows.Next() {
			var db string
			var n int
			require.NoError(t, rows.Scan(&db, &n))
			out[db] = n
		}
		require.NoError(t, rows.Err())
		return out
	}

	// Sessions ever established to app1, from the server's statistics.
	established := func() int64 {
		var n int64
		_, _ = watch.Exec(ctx, "SELECT pg_stat_clear_snapshot()")
		require.NoError(t, watch.QueryRow(ctx, `SELECT sessions FROM pg_stat_database WHERE datname = 'app1'`).Scan(&n))
		return n
	}
	before := established()

	c.Start(t)
	require.Eventually(t, func() bool { return sessions()["postgres"] > 0 }, time.Minute, 200*time.Millisecond,
		"the collector holds a session to its own database")
	var withApp, withoutApp, ownGone int
	for end := time.Now().Add(40 * time.Second); time.Now().Before(end); time.Sleep(250 * time.Millisecond) {
		s := sessions()
		if s["app1"] > 0 {
			withApp++
		} else {
			withoutApp++
		}
		if s["postgres"] == 0 {
			ownGone++
		}
	}
	require.Positive(t, withApp, "a session to app1 during the bursts")
	require.Greater(t, withoutApp, withApp, "no session to app1 most of the time between bursts")
	require.Zero(t, ownGone, "the session to the connection's own database is kept")
	n := e2e.Value[int](t, c, `SELECT count(DISTINCT collected_at)::int FROM metrics.pg_stat_database
		WHERE connection_id = $1 AND database_name = 'app1'`, id)
	require.GreaterOrEqual(t, n, 3, "app1 sampled in every burst")
	require.Eventually(t, func() bool { return established() >= before+3 }, 10*time.Second, 500*time.Millisecond,
		"a new session to app1 for each burst: %d before the start, %s now", before, lazy(func() string { return strconv.FormatInt(established(), 10) }))
}
