package main

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"github.com/pgcollector/pgcollector/internal/e2e"
	"github.com/pgcollector/pgcollector/internal/pgtest"
	"github.com/pgcollector/pgcollector/probes"
)

const acceptancePassword = "accept-Pw-1418"

// TestAcceptanceAllVersions is the acceptance flow of issue 3: one
// collector run against every PostgreSQL major of the matrix at once, each
// server with pg_stat_statements, a sequence, a called function
// (track_functions = all), a physical slot, an ident mapping and the test
// system_stats extension, logical replication from 15 to 18, and every
// probe at 5 s, collecting as a pg_monitor role with the grants README
// documents.
func TestAcceptanceAllVersions(t *testing.T) {
	ctx := context.Background()
	setupStart := time.Now()
	c := e2e.NewCollector(t)
	requireCatalogueSeeded(t, c)

	versions := pgtest.Versions()
	servers := startMonitored(t, versions)
	for _, v := range versions {
		prepareMonitored(ctx, t, servers[v])
	}
	if servers[15] != nil && servers[18] != nil {
		replicateLogically(t, servers[15], servers[18])
	}
	ids := map[int]int64{}
	for _, v := range versions {
		ids[v] = c.AddConnection(t, fmt.Sprintf("pg%d", v), servers[v], "pgc_monitor", acceptancePassword)
	}
	// What each probe must store: rows wherever its source has rows, as
	// the superuser sees them before the collector starts.
	want := map[int][]string{}
	for _, v := range versions {
		want[v] = probesWithRows(ctx, t, servers[v])
		var without []string
		for _, p := range probes.All {
			if !slices.Contains(want[v], p.Name) {
				without = append(without, p.Name)
			}
		}
		t.Logf("PostgreSQL %d: %d probes see rows; none in %v", v, len(want[v]), without)
	}
	c.Exec(t, `UPDATE public.probes SET collection_interval_seconds = 5, is_enabled = true`)

	c.Start(t)
	started := time.Now()
	t.Logf("setup took %s", started.Sub(setupStart).Round(time.Second))
	var missing []string
	for {
		missing = missingRows(t, c, ids, want)
		if len(missing) == 0 || time.Since(started) > 75*time.Second {
			break
		}
		time.Sleep(time.Second)
	}
	require.Empty(t, missing, "probes whose source has rows but nothing was stored within 75 s")
	t.Logf("every expected probe stored rows within %s", time.Since(started).Round(time.Second))

	// pg_stat_statements is cluster-wide: each statement once per run,
	// checked over at least two runs per server.
	require.Eventually(t, func() bool {
		return e2e.Value[int](t, c, `SELECT count(*) FROM (SELECT connection_id FROM metrics.pg_stat_statements
			GROUP BY connection_id HAVING count(DISTINCT collected_at) >= 2) x`) == len(ids)
	}, 20*time.Second, 500*time.Millisecond, "two pg_stat_statements runs per server")
	require.Zero(t, e2e.Value[int](t, c, `SELECT count(*) FROM (
		SELECT 1 FROM metrics.pg_stat_statements
		GROUP BY connection_id, collected_at, queryid, userid, dbid, toplevel HAVING count(*) > 1) d`))
	// A probe without a query for a version is recorded as unavailable
	// there, with a reason.
	for _, v := range versions {
		for _, p := range probes.All {
			if _, ok := p.QueryFor(servers[v].Version); ok {
				continue
			}
			reason := e2e.Value[string](t, c, `SELECT coalesce(max(reason), '') FROM public.probe_availability
				WHERE connection_id = $1 AND probe = $2 AND NOT available`, ids[v], p.Name)
			require.NotEmpty(t, reason, "%s on PostgreSQL %d is recorded as unavailable", p.Name, v)
		}
	}
	requireColumnsOfNewest(ctx, t, c, servers[versions[len(versions)-1]])
	t.Logf("checks done %s after start", time.Since(started).Round(time.Second))
}

// requireCatalogueSeeded checks that migrate seeded public.probes with the
// 34 built-in probes and their catalogue defaults.
func requireCatalogueSeeded(t *testing.T, c *e2e.Collector) {
	type row struct {
		Name      string
		Scope     string
		Interval  int
		Retention int
		Enabled   bool
	}
	got := e2e.Rows[row](t, c, `SELECT name, scope, collection_interval_seconds, retention_days, is_enabled
		FROM public.probes ORDER BY name`)
	var want []row
	for _, p := range probes.All {
		want = append(want, row{p.Name, string(p.Scope), p.IntervalSeconds, p.RetentionDays, true})
	}
	sort.Slice(want, func(i, j int) bool { return want[i].Name < want[j].Name })
	require.Len(t, got, 34)
	require.Equal(t, want, got)
}

// startMonitored starts one cluster per major in parallel: initdb and
// startup dominate the test's setup time.
func startMonitored(t *testing.T, versions []int) map[int]*pgtest.Cluster {
	servers := make([]*pgtest.Cluster, len(versions))
	var g errgroup.Group
	for i, v := range versions {
		settings := map[string]string{
			"shared_preload_libraries": "pg_stat_statements",
			"track_functions":          "all",
		}
		if v == 15 {
			settings["wal_level"] = "logical"
		}
		g.Go(func() error {
			c, err := pgtest.StartCluster(context.Background(), pgtest.Options{Version: v, Settings: settings,
				Ident: []string{"acceptance_map postgres pgc_monitor"}})
			servers[i] = c
			return err
		})
	}
	err := g.Wait()
	out := map[int]*pgtest.Cluster{}
	for i, c := range servers {
		if c != nil {
			t.Cleanup(func() { require.NoError(t, c.Close()) })
			out[versions[i]] = c
		}
	}
	require.NoError(t, err)
	return out
}

// prepareMonitored gives every probe something to see on one server.
func prepareMonitored(ctx context.Context, t *testing.T, c *pgtest.Cluster) {
	require.NoError(t, e2e.MonitorRole(ctx, c, "pgc_monitor", acceptancePassword))
	c.Exec(t, "postgres",
		"CREATE EXTENSION pg_stat_statements",
		"CREATE TABLE acceptance_t (id bigint PRIMARY KEY, v text)",
		"INSERT INTO acceptance_t SELECT g, g::text FROM generate_series(1, 100) g",
		"CREATE SEQUENCE acceptance_seq",
		"SELECT nextval('acceptance_seq')",
		"CREATE FUNCTION acceptance_f() RETURNS int LANGUAGE plpgsql AS 'BEGIN RETURN 1; END'",
		"SELECT acceptance_f()",
		"SELECT pg_create_physical_replication_slot('acceptance_physical', true)",
		"ANALYZE acceptance_t")
	require.NoError(t, e2e.InstallSystemStats(ctx, c, "postgres"))
}

// replicateLogically publishes a table on pub and subscribes to it on sub,
// and waits until the subscription streams.
func replicateLogically(t *testing.T, pub, sub *pgtest.Cluster) {
	pub.Exec(t, "postgres",
		"CREATE TABLE acceptance_repl (id bigint PRIMARY KEY)",
		"INSERT INTO acceptance_repl SELECT generate_series(1, 10)",
		"CREATE PUBLICATION acceptance_pub FOR TABLE acceptance_repl")
	sub.Exec(t, "postgres",
		"CREATE TABLE acceptance_repl (id bigint PRIMARY KEY)",
		fmt.Sprintf("CREATE SUBSCRIPTION acceptance_sub CONNECTION 'host=%s port=%d user=postgres dbname=postgres' "+
			"PUBLICATION acceptance_pub", pub.Host, pub.Port))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pubConn, err := pgx.Connect(ctx, pub.DSN("postgres"))
	require.NoError(t, err)
	defer pubConn.Close(ctx)
	subConn, err := pgx.Connect(ctx, sub.DSN("postgres"))
	require.NoError(t, err)
	defer subConn.Close(ctx)
	require.Eventually(t, func() bool {
		var streaming, copied int
		_ = pubConn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'`).Scan(&streaming)
		_ = subConn.QueryRow(ctx, `SELECT count(*) FROM acceptance_repl`).Scan(&copied)
		return streaming > 0 && copied == 10
	}, 45*time.Second, 200*time.Millisecond, "logical replication from PostgreSQL %d to %d", pub.Major, sub.Major)
}

// probesWithRows runs every probe's query on the server as the superuser
// (database-scoped ones in postgres) and returns the probes that see rows.
func probesWithRows(ctx context.Context, t *testing.T, c *pgtest.Cluster) []string {
	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
	require.NoError(t, err)
	defer conn.Close(ctx)
	var out []string
	for _, p := range probes.All {
		sql, ok := p.QueryFor(c.Version)
		if !ok {
			continue
		}
		var n int
		require.NoError(t, conn.QueryRow(ctx, "SELECT count(*) FROM ("+sql+") q").Scan(&n),
			"%s on PostgreSQL %d", p.Name, c.Major)
		if n > 0 {
			out = append(out, p.Name)
		}
	}
	return out
}

// missingRows lists "probe on PostgreSQL N" for every expected probe that
// has no stored row for that server yet.
func missingRows(t *testing.T, c *e2e.Collector, ids map[int]int64, want map[int][]string) []string {
	var missing []string
	for _, p := range probes.All {
		stored := e2e.Rows[int64](t, c, "SELECT DISTINCT connection_id::bigint FROM metrics."+p.Name)
		for v, names := range want {
			if slices.Contains(names, p.Name) && !slices.Contains(stored, ids[v]) {
				missing = append(missing, fmt.Sprintf("%s on PostgreSQL %d", p.Name, v))
			}
		}
	}
	sort.Strings(missing)
	return missing
}

// storedAs maps a view column to the stored column that holds it where a
// probe renames it: pg_stat_database's datname is the database_name every
// database-scoped row starts with.
var storedAs = map[string]map[string]string{
	"pg_stat_database": {"datname": "database_name"},
}

// requireColumnsOfNewest checks that the metrics tables of the wide views
// have every column of those views on the newest server of the matrix
// (PostgreSQL 18 in `make test`).
func requireColumnsOfNewest(ctx context.Context, t *testing.T, c *e2e.Collector, newest *pgtest.Cluster) {
	conn, err := pgx.Connect(ctx, newest.DSN("postgres"))
	require.NoError(t, err)
	defer conn.Close(ctx)
	for _, view := range []string{"pg_stat_activity", "pg_stat_database", "pg_stat_all_tables",
		"pg_stat_all_indexes", "pg_stat_io", "pg_settings"} {
		if _, ok := must(probes.ByName(view)).QueryFor(newest.Version); !ok {
			continue // pg_stat_io before 16
		}
		rows, err := conn.Query(ctx, `SELECT column_name::text FROM information_schema.columns
			WHERE table_schema = 'pg_catalog' AND table_name = $1 ORDER BY ordinal_position`, view)
		require.NoError(t, err)
		viewCols, err := pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err)
		require.NotEmpty(t, viewCols, view)
		stored := e2e.Rows[string](t, c, `SELECT column_name::text FROM information_schema.columns
			WHERE table_schema = 'metrics' AND table_name = $1`, view)
		var missing []string
		for _, col := range viewCols {
			if as, ok := storedAs[view][col]; ok {
				col = as
			}
			if !slices.Contains(stored, col) {
				missing = append(missing, col)
			}
		}
		require.Empty(t, missing, "columns of %s on PostgreSQL %d missing from metrics.%s (has %s)",
			view, newest.Major, view, strings.Join(stored, ", "))
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
