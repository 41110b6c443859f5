package probes_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/internal/pgtest"
	"github.com/pgcollector/pgcollector/probes"
)

// systemStatsProbeNames are the probes over the system_stats extension.
var systemStatsProbeNames = []string{
	"pg_sys_os_info", "pg_sys_cpu_info", "pg_sys_cpu_usage_info", "pg_sys_memory_info",
	"pg_sys_io_analysis_info", "pg_sys_disk_info", "pg_sys_load_avg_info",
	"pg_sys_process_info", "pg_sys_network_info", "pg_sys_cpu_memory_by_process",
}

// databaseSetup gives the database-scoped probes something to report in
// database postgres; database bare has none of the extensions.
var databaseSetup = []string{
	"CREATE EXTENSION pg_stat_statements",
	"CREATE ROLE " + monitorRole + " LOGIN PASSWORD '" + monitorPassword + "' IN ROLE pg_monitor",
	"CREATE DATABASE bare",
	"CREATE TABLE probe_t (id bigint PRIMARY KEY, v text)",
	"INSERT INTO probe_t SELECT g, g::text FROM generate_series(1, 100) g",
	"SELECT count(*) FROM probe_t WHERE id = 7",
	"CREATE SEQUENCE probe_seq",
	"SELECT nextval('probe_seq')",
	"CREATE FUNCTION probe_f() RETURNS int LANGUAGE plpgsql AS 'BEGIN RETURN 1; END'",
	"SELECT probe_f()",
	// Constants are normalised to $n, but the aliases stay: the recorded
	// text is longer than the 4096 characters the probe keeps.
	"SELECT " + longSelectList(600),
}

// TestDatabaseProbes checks what the database-scoped and system_stats
// probes report on every supported version, collecting as a pg_monitor
// role the way the fetcher does.
func TestDatabaseProbes(t *testing.T) {
	for _, major := range pgtest.Versions() {
		t.Run(fmt.Sprintf("pg%d", major), func(t *testing.T) {
			t.Parallel()
			c := pgtest.Start(t, pgtest.Options{Version: major, Settings: map[string]string{
				"shared_preload_libraries": "pg_stat_statements",
				"track_functions":          "all",
			}})
			c.Exec(t, "postgres", databaseSetup...)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			monitor := connect(ctx, t, c.DSNFor(monitorRole, monitorPassword, "postgres"))
			bare := connect(ctx, t, c.DSNFor(monitorRole, monitorPassword, "bare"))

			t.Run("pg_stat_database and conflicts hold the current database only", func(t *testing.T) {
				var oid int64
				require.NoError(t, monitor.QueryRow(ctx, "SELECT oid::bigint FROM pg_database WHERE datname = 'postgres'").Scan(&oid))
				for _, name := range []string{"pg_stat_database", "pg_stat_database_conflicts"} {
					rows := databaseProbeRows(ctx, t, monitor, c.Version, name)
					require.Len(t, rows, 1, name)
					require.Equal(t, oid, rows[0]["datid"], name)
				}
			})

			t.Run("pg_stat_all_tables and pg_stat_all_indexes count the table's activity", func(t *testing.T) {
				// PostgreSQL 14's statistics collector receives counts asynchronously.
				require.EventuallyWithT(t, func(t *assert.CollectT) {
					row := findRow(databaseProbeRows(ctx, t, monitor, c.Version, "pg_stat_all_tables"), "relname", "probe_t")
					if assert.NotNil(t, row, "pg_stat_all_tables has no row for probe_t") {
						assert.Equal(t, int64(100), row["n_tup_ins"], "n_tup_ins")
						assert.Equal(t, "public", row["schemaname"], "schemaname")
					}
					row = findRow(databaseProbeRows(ctx, t, monitor, c.Version, "pg_stat_all_indexes"), "indexrelname", "probe_t_pkey")
					if assert.NotNil(t, row, "pg_stat_all_indexes has no row for probe_t_pkey") {
						assert.Equal(t, "probe_t", row["relname"], "relname")
					}
				}, 30*time.Second, 200*time.Millisecond)
			})

			t.Run("pg_statio_all_sequences shows a created sequence", func(t *testing.T) {
				row := findRow(databaseProbeRows(ctx, t, monitor, c.Version, "pg_statio_all_sequences"), "relname", "probe_seq")
				require.NotNil(t, row, "no row for probe_seq")
				require.Equal(t, "public", row["schemaname"])
			})

			t.Run("pg_stat_user_functions shows a called function", func(t *testing.T) {
				require.EventuallyWithT(t, func(t *assert.CollectT) {
					row := findRow(databaseProbeRows(ctx, t, monitor, c.Version, "pg_stat_user_functions"), "funcname", "probe_f")
					if assert.NotNil(t, row, "pg_stat_user_functions has no row for probe_f") {
						assert.Equal(t, int64(1), row["calls"], "calls")
					}
				}, 30*time.Second, 200*time.Millisecond)
			})

			t.Run("pg_extension lists the installed extensions with schema and owner", func(t *testing.T) {
				row := findRow(databaseProbeRows(ctx, t, monitor, c.Version, "pg_extension"), "extname", "pg_stat_statements")
				require.NotNil(t, row)
				require.Equal(t, "public", row["extnamespace"])
				require.Equal(t, "postgres", row["extowner"])
				require.Len(t, databaseProbeRows(ctx, t, bare, c.Version, "pg_extension"), 1, "bare has plpgsql only")
			})

			t.Run("pg_stat_statements", func(t *testing.T) {
				testPgStatStatements(ctx, t, c, monitor, bare)
			})

			t.Run("system_stats", func(t *testing.T) {
				for _, name := range systemStatsProbeNames {
					p, err := probes.ByName(name)
					require.NoError(t, err)
					require.Equal(t, "extension system_stats not installed", checkReason(ctx, t, monitor, p), name)
				}
				InstallSystemStats(t, c, "postgres")
				for _, name := range systemStatsProbeNames {
					p, err := probes.ByName(name)
					require.NoError(t, err)
					require.Empty(t, checkReason(ctx, t, monitor, p), name)
					require.NotEmpty(t, databaseProbeRows(ctx, t, monitor, c.Version, name), name)
					require.Equal(t, "extension system_stats not installed", checkReason(ctx, t, bare, p),
						"%s: the extension is installed in postgres, not in bare", name)
				}
			})
		})
	}
}

func testPgStatStatements(ctx context.Context, t *testing.T, c *pgtest.Cluster, monitor, bare *pgx.Conn) {
	p, err := probes.ByName("pg_stat_statements")
	require.NoError(t, err)
	require.True(t, p.ClusterWide)
	require.Empty(t, checkReason(ctx, t, monitor, p))
	require.Equal(t, "extension pg_stat_statements not installed", checkReason(ctx, t, bare, p))

	// The fetcher runs the query made for the view's columns; the one by
	// server version alone is its fallback. Both must read the same.
	for _, adapted := range []bool{true, false} {
		read := func(conn *pgx.Conn) []map[string]any {
			if adapted {
				return adaptedProbeRows(ctx, t, conn, p)
			}
			return databaseProbeRows(ctx, t, conn, c.Version, p.Name)
		}
		rows := read(monitor)
		require.NotEmpty(t, rows)
		type key struct {
			queryid, userid, dbid any
			toplevel              any
		}
		seen := map[key]bool{}
		longest := 0
		for _, r := range rows {
			require.Len(t, r, len(p.Columns))
			k := key{r["queryid"], r["userid"], r["dbid"], r["toplevel"]}
			require.False(t, seen[k], "duplicate statement %v", k)
			seen[k] = true
			require.NotNil(t, r["toplevel"], "the default extension version has toplevel")
			require.NotNil(t, r["shared_blk_read_time"], "blk_read_time before 1.11")
			longest = max(longest, len([]rune(r["query"].(string))))
		}
		require.Equal(t, 4096, longest, "query texts are cut at 4096 characters")
		if c.Version >= 170000 {
			require.NotNil(t, rows[0]["stats_since"], "1.11 has stats_since")
		}

		// A database whose extension predates toplevel (1.8, as pg_upgrade
		// from PostgreSQL 13 leaves it) still collects, with NULL for what
		// 1.8 lacks: the probe detects columns, it does not assume the
		// version.
		if adapted {
			c.Exec(t, "postgres", "CREATE DATABASE pgss_old")
			c.Exec(t, "pgss_old", "CREATE EXTENSION pg_stat_statements VERSION '1.8'")
		}
		old := connect(ctx, t, c.DSNFor(monitorRole, monitorPassword, "pgss_old"))
		require.Empty(t, checkReason(ctx, t, old, p))
		rows = read(old)
		require.NotEmpty(t, rows)
		for _, r := range rows {
			require.Nil(t, r["toplevel"])
			require.Nil(t, r["stats_since"])
			require.NotNil(t, r["shared_blk_read_time"], "read from blk_read_time")
			require.NotNil(t, r["calls"])
		}
	}

	// Installed but not preloaded: the view would fail, the Check says why.
	np := pgtest.Start(t, pgtest.Options{Version: c.Major})
	np.Exec(t, "postgres", "CREATE EXTENSION pg_stat_statements")
	reason := checkReason(ctx, t, connect(ctx, t, np.DSN("postgres")), p)
	require.Contains(t, reason, "shared_preload_libraries")
}

// databaseProbeRows runs a probe's query the way the fetcher does (read
// only, in a statistics snapshot when the probe asks for one) and returns
// its rows.
func databaseProbeRows(ctx context.Context, t require.TestingT, conn *pgx.Conn, version int, name string) []map[string]any {
	p, err := probes.ByName(name)
	require.NoError(t, err)
	sql, ok := p.QueryFor(version)
	require.True(t, ok, "%s: no query for %d", name, version)
	iso := pgx.ReadCommitted
	if p.Snapshot {
		iso = pgx.RepeatableRead
	}
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: iso, AccessMode: pgx.ReadOnly})
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(ctx) }()
	if p.Snapshot && version >= 150000 {
		_, err := tx.Exec(ctx, "SET LOCAL stats_fetch_consistency = snapshot")
		require.NoError(t, err)
	}
	rows, err := tx.Query(ctx, sql)
	require.NoError(t, err, sql)
	out, err := pgx.CollectRows(rows, pgx.RowToMap)
	require.NoError(t, err, sql)
	return out
}

// adaptedProbeRows reads the columns of the probe's source and runs the
// query made for them, as the fetcher does.
func adaptedProbeRows(ctx context.Context, t require.TestingT, conn *pgx.Conn, p probes.Probe) []map[string]any {
	rows, err := conn.Query(ctx, probes.ColumnsSQL, p.ColumnsOf)
	require.NoError(t, err)
	cols, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.NotEmpty(t, cols, "%s has no columns", p.ColumnsOf)
	sql, ok := p.QueryForColumns(cols)
	require.True(t, ok, "%s does not adapt", p.Name)
	rows, err = conn.Query(ctx, sql)
	require.NoError(t, err, sql)
	out, err := pgx.CollectRows(rows, pgx.RowToMap)
	require.NoError(t, err, sql)
	return out
}

// findRow returns the first row whose column col equals value, or nil.
func findRow(rows []map[string]any, col string, value any) map[string]any {
	for _, r := range rows {
		if r[col] == value {
			return r
		}
	}
	return nil
}

// longSelectList is "1 AS c1, 2 AS c2, ..." with n items.
func longSelectList(n int) string {
	items := make([]string, n)
	for i := range items {
		items[i] = fmt.Sprintf("%d AS c%d", i, i)
	}
	return strings.Join(items, ", ")
}
