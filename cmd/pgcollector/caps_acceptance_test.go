package main

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/internal/e2e"
	"github.com/pgcollector/pgcollector/internal/pgtest"
)

// TestAcceptanceObjectCap collects a database of 60 tables (and the
// system catalogs and TOAST tables, well over 100 rows) with
// PGC_PROBE_MAX_OBJECTS=20 and the index probe exempted: every run of
// pg_stat_all_tables stores exactly the 20 most active tables, the three
// tables written most are among them and an idle one is not, the index
// probe stores all its rows, and the cut shows in
// pgcollector_probe_objects_capped_total and in one log line naming the
// connection, probe, kept and total.
func TestAcceptanceObjectCap(t *testing.T) {
	ctx := context.Background()
	const password = "cap-Pw-77"
	addr := freeAddr(t)
	c := e2e.NewCollector(t, "PGC_HTTP_ADDR="+addr, "PGC_CATALOG_REFRESH=1s", "PGC_PROBE_MAX_OBJECTS=20",
		"PGC_PROBE_MAX_OBJECTS_BY_PROBE=pg_stat_all_indexes=0")
	mon := pgtest.Start(t, pgtest.Options{})
	require.NoError(t, e2e.MonitorRole(ctx, mon, "pgc_monitor", password, "app1"))
	mon.Exec(t, "app1", `DO $$ BEGIN FOR i IN 1..60 LOOP
  EXECUTE format('CREATE TABLE t%s (id bigint PRIMARY KEY, v text)', i);
END LOOP; END $$`,
		"INSERT INTO t1 SELECT g, 'x' FROM generate_series(1, 300000) g",
		"INSERT INTO t2 SELECT g, 'x' FROM generate_series(1, 200000) g",
		"INSERT INTO t3 SELECT g, 'x' FROM generate_series(1, 100000) g")
	var total int
	conn, err := pgx.Connect(ctx, mon.DSN("app1"))
	require.NoError(t, err)
	defer conn.Close(ctx)
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM pg_class WHERE relkind IN ('r', 't', 'm', 'p')`).Scan(&total))
	require.Greater(t, total, 100)
	id := c.AddConnection(t, "capped", mon, "pgc_monitor", password)
	c.OnlyProbes(t, 2, "pg_stat_all_tables", "pg_stat_all_indexes")
	proc := c.Start(t)

	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		assert.GreaterOrEqual(ct, e2e.Value[int](t, c, `SELECT count(DISTINCT collected_at)::int FROM metrics.pg_stat_all_tables
			WHERE connection_id = $1 AND database_name = 'app1'`, id), 3)
	}, 90*time.Second, 250*time.Millisecond, "three runs of pg_stat_all_tables in app1")

	// Change-only storage (on by default) leaves unchanged rows out of the
	// table; the series function gives back every run as it was collected.
	const series = `metrics.pg_stat_all_tables_series(now() - interval '1 day', now() + interval '1 day', $1)`
	perRun := e2e.Rows[int](t, c, `SELECT count(*)::int FROM `+series+`
		WHERE database_name = 'app1' GROUP BY collected_at`, id)
	for _, n := range perRun {
		require.Equal(t, 20, n, "rows per run of pg_stat_all_tables: %v", perRun)
	}
	kept := e2e.Rows[string](t, c, `SELECT DISTINCT relname FROM `+series+`
		WHERE database_name = 'app1' AND schemaname = 'public'`, id)
	require.Subset(t, kept, []string{"t1", "t2", "t3"}, "the tables written most")
	require.NotContains(t, kept, "t40", "an idle table")

	indexes := e2e.Value[int](t, c, `SELECT max(n)::int FROM (SELECT count(*) AS n
		FROM metrics.pg_stat_all_indexes_series(now() - interval '1 day', now() + interval '1 day', $1)
		WHERE database_name = 'app1' GROUP BY collected_at) s`, id)
	require.Greater(t, indexes, 60, "pg_stat_all_indexes is exempted by PGC_PROBE_MAX_OBJECTS_BY_PROBE")

	code, body := httpGet(t, "http://"+addr+"/metrics")
	require.Equal(t, http.StatusOK, code)
	m := regexp.MustCompile(`pgcollector_probe_objects_capped_total\{probe="pg_stat_all_tables"\} (\d+)`).FindStringSubmatch(body)
	require.NotNil(t, m, "capped counter in /metrics")
	left, err := strconv.Atoi(m[1])
	require.NoError(t, err)
	require.GreaterOrEqual(t, left, 2*(total-20), "objects left out over at least two runs of two databases")
	require.NotContains(t, body, `pgcollector_probe_objects_capped_total{probe="pg_stat_all_indexes"}`)

	out := proc.Output()
	line := regexp.MustCompile(`.*probe capped at PGC_PROBE_MAX_OBJECTS.*app1.*`).FindString(out)
	require.NotEmpty(t, line, "log line of the cut in app1:\n%s", out)
	for _, want := range []string{"connection=capped", "probe=pg_stat_all_tables", "kept=20", fmt.Sprintf("total=%d", total)} {
		require.Contains(t, line, want)
	}
	require.Len(t, regexp.MustCompile(`probe capped at PGC_PROBE_MAX_OBJECTS.*database=app1`).FindAllString(out, -1), 1,
		"logged once, not every run")
}
