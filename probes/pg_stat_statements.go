package probes

// pgStatStatements stores the top statements by total execution time from
// the pg_stat_statements extension.
//
// The view's columns depend on the extension version installed in the
// database, not on the server version: a cluster upgraded with pg_upgrade
// keeps its old extension version until ALTER EXTENSION ... UPDATE. So the
// query detects columns instead of choosing by server version. Columns that
// every version since 1.8 (the one of PostgreSQL 13, the oldest a 14 server
// can carry) has are read directly; the later ones are looked up by name in
// to_jsonb of the row, which yields NULL where the installed version lacks
// them. Columns renamed in 1.11 (PostgreSQL 17) fall back to their old
// names: blk_read_time/blk_write_time, which before 1.11 counted shared and
// local blocks together, are stored as shared_blk_read_time and
// shared_blk_write_time. Measured with 3,000 statements, the lookups cost
// about 40 ms per run over reading the view with fixed columns, every 300 s.
//
// The view shows the statements of every database, so the probe is
// ClusterWide. Only the top 1000 statements by total_exec_time are kept
// (the query says LIMIT 1000 /*top_n*/, which the fetcher replaces with
// PGC_STATEMENTS_TOP_N; see WithTopN), and
// only those are converted to jsonb. Query texts are cut at 4096
// characters.
var pgStatStatements = Probe{
	Name:            "pg_stat_statements",
	Scope:           ScopeDatabase,
	Description:     "Top 1000 statements by total execution time (pg_stat_statements extension).",
	IntervalSeconds: 300,
	RetentionDays:   7,
	Columns:         srcColumns(pgStatStatementsCols),
	Queries: srcQueries(pgStatStatementsCols, `FROM (SELECT * FROM pg_stat_statements
      ORDER BY total_exec_time DESC
      LIMIT 1000 /*top_n*/) s,
  to_jsonb(s) j`),
	Check: `SELECT CASE
  WHEN NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements')
    THEN 'extension pg_stat_statements not installed'
  WHEN current_setting('shared_preload_libraries') !~ 'pg_stat_statements'
    THEN 'extension pg_stat_statements installed but the library is not in shared_preload_libraries'
  WHEN to_regclass('pg_stat_statements') IS NULL
    THEN 'view pg_stat_statements is not on the search_path (extension schema '
      || (SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_stat_statements') || ')'
END`,
	ClusterWide: true,
}

// pgssLater reads a column that extension versions after 1.8 added from the
// row's jsonb j, falling back to the column's older names.
func pgssLater(name, typ string, oldNames ...string) srcCol {
	expr := "j->>'" + name + "'"
	for _, old := range oldNames {
		expr += ", j->>'" + old + "'"
	}
	if len(oldNames) > 0 {
		expr = "COALESCE(" + expr + ")"
	}
	return srcCol{name, typ, expr, 0}
}

var pgStatStatementsCols = []srcCol{
	// Columns every version from 1.8 on has, read directly.
	{"userid", "bigint", "s.userid", 0},
	{"dbid", "bigint", "s.dbid", 0},
	pgssLater("toplevel", "boolean"),
	{"queryid", "bigint", "s.queryid", 0},
	{"query", "text", "left(s.query, 4096)", 0},
	{"plans", "bigint", "s.plans", 0},
	{"total_plan_time", "double precision", "s.total_plan_time", 0},
	{"min_plan_time", "double precision", "s.min_plan_time", 0},
	{"max_plan_time", "double precision", "s.max_plan_time", 0},
	{"mean_plan_time", "double precision", "s.mean_plan_time", 0},
	{"stddev_plan_time", "double precision", "s.stddev_plan_time", 0},
	{"calls", "bigint", "s.calls", 0},
	{"total_exec_time", "double precision", "s.total_exec_time", 0},
	{"min_exec_time", "double precision", "s.min_exec_time", 0},
	{"max_exec_time", "double precision", "s.max_exec_time", 0},
	{"mean_exec_time", "double precision", "s.mean_exec_time", 0},
	{"stddev_exec_time", "double precision", "s.stddev_exec_time", 0},
	{"rows", "bigint", "s.rows", 0},
	{"shared_blks_hit", "bigint", "s.shared_blks_hit", 0},
	{"shared_blks_read", "bigint", "s.shared_blks_read", 0},
	{"shared_blks_dirtied", "bigint", "s.shared_blks_dirtied", 0},
	{"shared_blks_written", "bigint", "s.shared_blks_written", 0},
	{"local_blks_hit", "bigint", "s.local_blks_hit", 0},
	{"local_blks_read", "bigint", "s.local_blks_read", 0},
	{"local_blks_dirtied", "bigint", "s.local_blks_dirtied", 0},
	{"local_blks_written", "bigint", "s.local_blks_written", 0},
	{"temp_blks_read", "bigint", "s.temp_blks_read", 0},
	{"temp_blks_written", "bigint", "s.temp_blks_written", 0},
	pgssLater("shared_blk_read_time", "double precision", "blk_read_time"),
	pgssLater("shared_blk_write_time", "double precision", "blk_write_time"),
	pgssLater("local_blk_read_time", "double precision"),
	pgssLater("local_blk_write_time", "double precision"),
	pgssLater("temp_blk_read_time", "double precision"),
	pgssLater("temp_blk_write_time", "double precision"),
	{"wal_records", "bigint", "s.wal_records", 0},
	{"wal_fpi", "bigint", "s.wal_fpi", 0},
	{"wal_bytes", "numeric", "s.wal_bytes", 0},
	pgssLater("wal_buffers_full", "bigint"),
	pgssLater("jit_functions", "bigint"),
	pgssLater("jit_generation_time", "double precision"),
	pgssLater("jit_inlining_count", "bigint"),
	pgssLater("jit_inlining_time", "double precision"),
	pgssLater("jit_optimization_count", "bigint"),
	pgssLater("jit_optimization_time", "double precision"),
	pgssLater("jit_emission_count", "bigint"),
	pgssLater("jit_emission_time", "double precision"),
	pgssLater("jit_deform_count", "bigint"),
	pgssLater("jit_deform_time", "double precision"),
	pgssLater("parallel_workers_to_launch", "bigint"),
	pgssLater("parallel_workers_launched", "bigint"),
	pgssLater("stats_since", "timestamptz"),
	pgssLater("minmax_stats_since", "timestamptz"),
}
