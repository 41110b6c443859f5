package probes_test

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/internal/pgtest"
	"github.com/pgcollector/pgcollector/probes"
)

// storedTypes are the only column types a probe may declare.
var storedTypes = []string{
	"text", "integer", "bigint", "double precision", "numeric", "boolean",
	"timestamptz", "interval", "inet", "pg_lsn", "text[]", "jsonb",
}

var identifier = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// versionThresholds are the server_version_num values a query may start at:
// the first release of each supported major.
var versionThresholds = []int{140000, 150000, 160000, 170000, 180000}

// catalogue is docs/probe-catalogue.md as data: every built-in probe in its order, with
// its scope, default interval and retention, and whether it is
// change-tracked.
var catalogue = []struct {
	name          string
	scope         probes.Scope
	interval      int
	retention     int
	changeTracked bool
}{
	{"pg_stat_activity", probes.ScopeServer, 60, 7, false},
	{"pg_stat_replication", probes.ScopeServer, 30, 7, false},
	{"pg_replication_slots", probes.ScopeServer, 300, 7, false},
	{"pg_stat_recovery_prefetch", probes.ScopeServer, 600, 7, false},
	{"pg_stat_subscription", probes.ScopeServer, 300, 7, false},
	{"pg_stat_connection_security", probes.ScopeServer, 300, 7, false},
	{"pg_stat_io", probes.ScopeServer, 900, 7, false},
	{"pg_stat_checkpointer", probes.ScopeServer, 600, 7, false},
	{"pg_stat_wal", probes.ScopeServer, 600, 7, false},
	{"pg_database", probes.ScopeServer, 300, 7, false},
	{"pg_settings", probes.ScopeServer, 3600, 365, true},
	{"pg_hba_file_rules", probes.ScopeServer, 3600, 365, true},
	{"pg_ident_file_mappings", probes.ScopeServer, 3600, 365, true},
	{"pg_server_info", probes.ScopeServer, 3600, 365, true},
	{"pg_node_role", probes.ScopeServer, 300, 30, false},
	{"pg_connectivity", probes.ScopeServer, 30, 7, false},
	{"pg_stat_database", probes.ScopeDatabase, 300, 7, false},
	{"pg_stat_database_conflicts", probes.ScopeDatabase, 300, 7, false},
	{"pg_stat_all_tables", probes.ScopeDatabase, 300, 7, false},
	{"pg_stat_all_indexes", probes.ScopeDatabase, 300, 7, false},
	{"pg_statio_all_sequences", probes.ScopeDatabase, 300, 7, false},
	{"pg_stat_user_functions", probes.ScopeDatabase, 300, 7, false},
	{"pg_stat_statements", probes.ScopeDatabase, 300, 7, false},
	{"pg_extension", probes.ScopeDatabase, 3600, 30, true},
	{"pg_sys_os_info", probes.ScopeServer, 600, 7, false},
	{"pg_sys_cpu_info", probes.ScopeServer, 600, 7, false},
	{"pg_sys_cpu_usage_info", probes.ScopeServer, 600, 7, false},
	{"pg_sys_memory_info", probes.ScopeServer, 600, 7, false},
	{"pg_sys_io_analysis_info", probes.ScopeServer, 600, 7, false},
	{"pg_sys_disk_info", probes.ScopeServer, 600, 7, false},
	{"pg_sys_load_avg_info", probes.ScopeServer, 600, 7, false},
	{"pg_sys_process_info", probes.ScopeServer, 600, 7, false},
	{"pg_sys_network_info", probes.ScopeServer, 600, 7, false},
	{"pg_sys_cpu_memory_by_process", probes.ScopeServer, 600, 7, false},
}

func TestRegistryMatchesCatalogue(t *testing.T) {
	require.Len(t, probes.All, 34, "docs/probe-catalogue.md lists 34 built-in probes")
	require.Len(t, probes.All, len(catalogue))
	for i, want := range catalogue {
		p := probes.All[i]
		require.Equal(t, want.name, p.Name, "probe %d in docs/probe-catalogue.md order", i)
		require.Equal(t, want.scope, p.Scope, p.Name)
		require.Equal(t, want.interval, p.IntervalSeconds, p.Name)
		require.Equal(t, want.retention, p.RetentionDays, p.Name)
		require.Equal(t, want.changeTracked, p.ChangeTracked, p.Name)
		require.Equal(t, p.Name == "pg_connectivity", p.RoundTrip, p.Name)
		got, err := probes.ByName(want.name)
		require.NoError(t, err)
		require.Equal(t, p.Name, got.Name)
	}
}

func TestRegistryIsWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range probes.All {
		t.Run(p.Name, func(t *testing.T) {
			require.Regexp(t, identifier, p.Name)
			require.False(t, seen[p.Name], "duplicate probe name")
			seen[p.Name] = true
			require.Contains(t, []probes.Scope{probes.ScopeServer, probes.ScopeDatabase}, p.Scope)
			require.False(t, p.ClusterWide && p.Scope != probes.ScopeDatabase, "ClusterWide applies to database-scoped probes only")
			require.NotEmpty(t, p.Description)
			require.Positive(t, p.IntervalSeconds)
			require.Positive(t, p.RetentionDays)

			require.NotEmpty(t, p.Columns)
			names := map[string]bool{}
			for _, c := range p.StoredColumns() {
				require.Regexp(t, identifier, c.Name)
				require.Falsef(t, names[c.Name], "duplicate column %s", c.Name)
				names[c.Name] = true
				require.Containsf(t, storedTypes, c.Type, "column %s", c.Name)
			}

			// A key names distinct columns of the probe's own; the sink
			// adds sample_kind to a keyed probe's table.
			require.False(t, names["sample_kind"], "sample_kind is the sink's column")
			require.False(t, len(p.Key) > 0 && p.ChangeTracked, "a probe is keyed or change-tracked, not both")
			keyed := map[string]bool{}
			for _, k := range p.Key {
				require.Truef(t, slices.ContainsFunc(p.Columns, func(c probes.Column) bool { return c.Name == k }),
					"key column %s is not a column of the probe", k)
				require.Falsef(t, keyed[k], "key column %s twice", k)
				keyed[k] = true
			}

			require.NotEmpty(t, p.Queries)
			for i, q := range p.Queries {
				require.Contains(t, versionThresholds, q.MinVersion)
				if i > 0 {
					require.Greater(t, q.MinVersion, p.Queries[i-1].MinVersion, "queries must ascend by MinVersion")
				}
				require.NotContains(t, strings.TrimSpace(q.SQL), ";", "the SQL is wrapped in COPY (...)")
			}
			if p.MinVersion() > versionThresholds[0] {
				require.NotEmpty(t, p.Check, "a probe that is not for every supported version needs a Check")
			}
		})
	}
}

// monitorRole is the unprivileged role the registry test collects as, to
// prove that pg_monitor (plus the documented grants) suffices.
const monitorRole, monitorPassword = "pgc_monitor", "monitor-secret"

// registrySetup makes every probe's source non-empty where that is cheap,
// so that the casts run on real values and not only on empty results.
var registrySetup = []string{
	"CREATE EXTENSION pg_stat_statements",
	"CREATE ROLE " + monitorRole + " LOGIN PASSWORD '" + monitorPassword + "' IN ROLE pg_monitor",
	// pg_monitor cannot read the parsed configuration files; these are the
	// grants that pg_hba_file_rules.go and pg_ident_file_mappings.go document.
	"GRANT SELECT ON pg_catalog.pg_hba_file_rules TO " + monitorRole,
	"GRANT EXECUTE ON FUNCTION pg_catalog.pg_hba_file_rules() TO " + monitorRole,
	"CREATE TABLE t (id bigint PRIMARY KEY, v text)",
	"CREATE SEQUENCE s",
	"SELECT nextval('s')",
	"INSERT INTO t SELECT g, g::text FROM generate_series(1, 100) g",
	"CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS 'BEGIN RETURN 1; END'",
	"SELECT f()",
	"ANALYZE t",
	"SELECT pg_create_physical_replication_slot('registry_physical', true)",
	"SELECT pg_create_logical_replication_slot('registry_logical', 'pgoutput')",
	"CREATE PUBLICATION registry_pub FOR TABLE t",
	"CREATE SUBSCRIPTION registry_sub CONNECTION 'dbname=nowhere' PUBLICATION registry_pub WITH (connect = false)",
	"CHECKPOINT",
}

func TestRegistryOnEveryVersion(t *testing.T) {
	for _, major := range pgtest.Versions() {
		t.Run(fmt.Sprintf("pg%d", major), func(t *testing.T) {
			t.Parallel()
			c := pgtest.Start(t, pgtest.Options{Version: major, Settings: map[string]string{
				"shared_preload_libraries": "pg_stat_statements",
				"track_functions":          "all",
				"wal_level":                "logical",
			}})
			c.Exec(t, "postgres", registrySetup...)
			if major >= 15 {
				c.Exec(t, "postgres",
					"GRANT SELECT ON pg_catalog.pg_ident_file_mappings TO "+monitorRole,
					"GRANT EXECUTE ON FUNCTION pg_catalog.pg_ident_file_mappings() TO "+monitorRole)
			}
			installSystemStats(t, c)

			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			super := connect(ctx, t, c.DSN("postgres"))
			monitor := connect(ctx, t, c.DSNFor(monitorRole, monitorPassword, "postgres"))

			for _, p := range probes.All {
				t.Run(p.Name, func(t *testing.T) {
					checkProbeOnServer(ctx, t, c.Version, super, monitor, p)
				})
			}
		})
	}
}

// installSystemStats installs the test build of the system_stats extension
// in database postgres; systemstats_ext_test.go sets it to
// InstallSystemStats.
var installSystemStats = func(t *testing.T, c *pgtest.Cluster) {
	t.Fatal("systemstats_ext_test.go did not provide installSystemStats")
}

// checkProbeOnServer checks one probe against one server: its Check, its
// result columns and types as the superuser, then a real collection as the
// pg_monitor role, wrapped exactly as the fetcher wraps it.
func checkProbeOnServer(ctx context.Context, t *testing.T, version int, super, monitor *pgx.Conn, p probes.Probe) {
	sql, ok := p.QueryFor(version)
	reason := checkReason(ctx, t, super, p)
	if !ok {
		require.NotEmpty(t, reason, "no query for server version %d, so the Check must give a reason", version)
		return
	}
	// The test server has everything the catalogue reads, extensions
	// included, so every probe with a query must be available.
	require.Empty(t, reason, "superuser on PostgreSQL %d", version)

	rows, err := super.Query(ctx, "SELECT * FROM ("+sql+") q LIMIT 0")
	require.NoError(t, err, sql)
	// The descriptions live in the connection's buffer: copy them before
	// the next query reuses it.
	fields := slices.Clone(rows.FieldDescriptions())
	rows.Close()
	require.NoError(t, rows.Err(), sql)
	var got []string
	for _, f := range fields {
		got = append(got, f.Name)
	}
	var want []string
	for _, col := range p.Columns {
		want = append(want, col.Name)
	}
	require.Equal(t, want, got, "result columns of the query for %d", version)
	for i, col := range p.Columns {
		require.Equalf(t, typeOID(ctx, t, super, col.Type), fields[i].DataTypeOID,
			"column %s is declared %s", col.Name, col.Type)
	}

	require.Empty(t, checkReason(ctx, t, monitor, p), "the Check must pass for a pg_monitor role")
	collect(ctx, t, monitor, version, p, sql)
	if len(p.Key) > 0 {
		// The sink tells a run's objects apart by the key: it must be
		// unique in a run (a run where it is not is stored in full).
		var keys []string
		for _, k := range p.Key {
			keys = append(keys, pgx.Identifier{k}.Sanitize())
		}
		var dups int
		require.NoError(t, super.QueryRow(ctx, "SELECT count(*) FROM (SELECT 1 FROM ("+sql+") q GROUP BY "+
			strings.Join(keys, ", ")+" HAVING count(*) > 1) d").Scan(&dups))
		require.Zero(t, dups, "rows sharing a key %v", p.Key)
	}
	if p.Activity != "" {
		checkCapped(ctx, t, monitor, version, p, sql)
	}
}

// checkCapped runs the probe capped at 3 objects (PGC_PROBE_MAX_OBJECTS):
// the same columns, at most 3 rows, the most active first, and the count
// of the uncapped objects the fetcher asks for when the cap may have cut.
func checkCapped(ctx context.Context, t *testing.T, conn *pgx.Conn, version int, p probes.Probe, sql string) {
	capped := p.WithMaxObjects(sql, 3)
	require.Equal(t, sql, p.WithMaxObjects(sql, 0), "0 is no cap")
	// One transaction, so both queries read one statistics snapshot: on
	// PostgreSQL 14 the stats collector may deliver a first object between
	// two statements (seen in CI: 0 rows capped, 1 counted).
	tx, err := conn.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(ctx) }()
	rows, err := tx.Query(ctx, capped)
	require.NoError(t, err, capped)
	n := 0
	for rows.Next() {
		n++
	}
	require.Equal(t, len(p.Columns), len(rows.FieldDescriptions()), "capped columns")
	rows.Close()
	require.NoError(t, rows.Err(), capped)
	var total int
	require.NoError(t, tx.QueryRow(ctx, probes.CountObjects(sql)).Scan(&total))
	require.NoError(t, tx.Commit(ctx))
	require.Equal(t, min(3, total), n, "rows of the capped query")
	collect(ctx, t, conn, version, p, capped)
}

// checkReason runs the probe's Check and returns its reason, "" for NULL.
func checkReason(ctx context.Context, t *testing.T, conn *pgx.Conn, p probes.Probe) string {
	if p.Check == "" {
		return ""
	}
	var reason *string
	require.NoError(t, conn.QueryRow(ctx, p.Check).Scan(&reason), p.Check)
	if reason == nil {
		return ""
	}
	return *reason
}

// collect runs the probe's query to completion the way the fetcher does:
// wrapped in COPY with the stored prefix columns, in a read-only
// transaction, with a statistics snapshot when the probe asks for one.
func collect(ctx context.Context, t *testing.T, conn *pgx.Conn, version int, p probes.Probe, sql string) {
	prefix := "1::integer, now()::timestamptz, "
	if p.Scope == probes.ScopeDatabase {
		prefix += "current_database()::text, "
	}
	iso := pgx.ReadCommitted
	if p.Snapshot {
		iso = pgx.RepeatableRead
	}
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: iso, AccessMode: pgx.ReadOnly})
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(ctx) }()
	// PostgreSQL 14 has no stats_fetch_consistency: its statistics are
	// read once per transaction anyway.
	if p.Snapshot && version >= 150000 {
		_, err := tx.Exec(ctx, "SET LOCAL stats_fetch_consistency = snapshot")
		require.NoError(t, err)
	}
	copySQL := "COPY (SELECT " + prefix + "q.* FROM (" + sql + ") q) TO STDOUT"
	_, err = conn.PgConn().CopyTo(ctx, io.Discard, copySQL)
	require.NoError(t, err, copySQL)
}

// typeOID resolves a declared type name on the server under test.
func typeOID(ctx context.Context, t *testing.T, conn *pgx.Conn, typ string) uint32 {
	var oid uint32
	require.NoError(t, conn.QueryRow(ctx, "SELECT $1::regtype::oid", typ).Scan(&oid), typ)
	return oid
}

// connect opens a session configured like the fetcher's.
func connect(ctx context.Context, t *testing.T, dsn string) *pgx.Conn {
	cfg, err := pgx.ParseConfig(dsn)
	require.NoError(t, err)
	cfg.RuntimeParams["application_name"] = "pgcollector"
	cfg.RuntimeParams["TimeZone"] = "UTC"
	cfg.RuntimeParams["DateStyle"] = "ISO"
	cfg.RuntimeParams["IntervalStyle"] = "postgres"
	cfg.RuntimeParams["extra_float_digits"] = "3"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}
