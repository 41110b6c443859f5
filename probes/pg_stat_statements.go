package probes

// pgStatStatements stores the top statements by total execution time from
// the pg_stat_statements extension.
//
// The view's columns depend on the extension version installed in the
// database, not on the server version: a cluster upgraded with pg_upgrade
// keeps its old extension version until ALTER EXTENSION ... UPDATE. So the
// query detects columns per row instead of choosing by server version: it
// reads each row through to_jsonb and takes every column by name, which
// yields NULL for a column the installed version lacks (1.8 on PostgreSQL 13
// upgrades up to 1.12 on 18). Columns renamed in 1.11 (PostgreSQL 17) fall
// back to their old names: blk_read_time/blk_write_time, which before 1.11
// counted shared and local blocks together, are stored as
// shared_blk_read_time/shared_blk_write_time.
//
// The view shows the statements of every database, so the probe is
// ClusterWide. Only the top 1000 statements are kept (N is the literal
// 1000 in the query, which the fetcher may replace), and only the rows
// kept are converted to jsonb. Query texts are cut at 4096 characters.
var pgStatStatements = Probe{
	Name:            "pg_stat_statements",
	Scope:           ScopeDatabase,
	Description:     "Top 1000 statements by total execution time (pg_stat_statements extension).",
	IntervalSeconds: 300,
	RetentionDays:   7,
	Columns:         srcColumns(pgStatStatementsCols),
	Queries: srcQueries(pgStatStatementsCols, `FROM (SELECT * FROM pg_stat_statements
      ORDER BY total_exec_time DESC
      LIMIT 1000) s,
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

// pgssCol reads column name of a pg_stat_statements row j, or the first of
// its older names that the row has.
func pgssCol(name, typ string, oldNames ...string) srcCol {
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
	pgssCol("userid", "bigint"),
	pgssCol("dbid", "bigint"),
	pgssCol("toplevel", "boolean"),
	pgssCol("queryid", "bigint"),
	{"query", "text", "left(s.query, 4096)", 0},
	pgssCol("plans", "bigint"),
	pgssCol("total_plan_time", "double precision"),
	pgssCol("min_plan_time", "double precision"),
	pgssCol("max_plan_time", "double precision"),
	pgssCol("mean_plan_time", "double precision"),
	pgssCol("stddev_plan_time", "double precision"),
	pgssCol("calls", "bigint"),
	pgssCol("total_exec_time", "double precision"),
	pgssCol("min_exec_time", "double precision"),
	pgssCol("max_exec_time", "double precision"),
	pgssCol("mean_exec_time", "double precision"),
	pgssCol("stddev_exec_time", "double precision"),
	pgssCol("rows", "bigint"),
	pgssCol("shared_blks_hit", "bigint"),
	pgssCol("shared_blks_read", "bigint"),
	pgssCol("shared_blks_dirtied", "bigint"),
	pgssCol("shared_blks_written", "bigint"),
	pgssCol("local_blks_hit", "bigint"),
	pgssCol("local_blks_read", "bigint"),
	pgssCol("local_blks_dirtied", "bigint"),
	pgssCol("local_blks_written", "bigint"),
	pgssCol("temp_blks_read", "bigint"),
	pgssCol("temp_blks_written", "bigint"),
	pgssCol("shared_blk_read_time", "double precision", "blk_read_time"),
	pgssCol("shared_blk_write_time", "double precision", "blk_write_time"),
	pgssCol("local_blk_read_time", "double precision"),
	pgssCol("local_blk_write_time", "double precision"),
	pgssCol("temp_blk_read_time", "double precision"),
	pgssCol("temp_blk_write_time", "double precision"),
	pgssCol("wal_records", "bigint"),
	pgssCol("wal_fpi", "bigint"),
	pgssCol("wal_bytes", "numeric"),
	pgssCol("wal_buffers_full", "bigint"),
	pgssCol("jit_functions", "bigint"),
	pgssCol("jit_generation_time", "double precision"),
	pgssCol("jit_inlining_count", "bigint"),
	pgssCol("jit_inlining_time", "double precision"),
	pgssCol("jit_optimization_count", "bigint"),
	pgssCol("jit_optimization_time", "double precision"),
	pgssCol("jit_emission_count", "bigint"),
	pgssCol("jit_emission_time", "double precision"),
	pgssCol("jit_deform_count", "bigint"),
	pgssCol("jit_deform_time", "double precision"),
	pgssCol("parallel_workers_to_launch", "bigint"),
	pgssCol("parallel_workers_launched", "bigint"),
	pgssCol("stats_since", "timestamptz"),
	pgssCol("minmax_stats_since", "timestamptz"),
}
