package probes

// pgStatStatements stores the top statements by total execution time from
// the pg_stat_statements extension.
//
// The view's columns depend on the extension version installed in the
// database, not on the server version: a cluster upgraded with pg_upgrade
// keeps its old extension version until ALTER EXTENSION ... UPDATE. So the
// fetcher reads the view's columns (ColumnsOf) and runs a query made for
// them (QueryForColumns): columns that every version since 1.8 (the one of
// PostgreSQL 13, the oldest a 14 server can carry) has are read directly,
// a later one under the first of its names the view has, else NULL.
// Columns renamed in 1.11 (PostgreSQL 17) fall back to their old names:
// blk_read_time/blk_write_time, which before 1.11 counted shared and local
// blocks together, are stored as shared_blk_read_time and
// shared_blk_write_time.
//
// QueryFor, used when the columns could not be read, needs no such
// knowledge: it looks the later columns up by name in to_jsonb of the row,
// which yields NULL where the installed version lacks them. That costs the
// server about three times the CPU (measured with 1,000 statements: 46 ms
// a run against 13 ms with fixed columns).
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
	Key:             []string{"userid", "dbid", "toplevel", "queryid"},
	Description:     "Top 1000 statements by total execution time (pg_stat_statements extension).",
	IntervalSeconds: 300,
	RetentionDays:   7,
	Columns:         vcolumns(pgStatStatementsCols),
	Queries:         vqueries(pgStatStatementsCols, Versioned{MinVersion: 140000, SQL: pgssTop + ",\n  to_jsonb(s) j"}),
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
	ColumnsOf:   "pg_stat_statements",
	adapt: func(has func(string) bool) string {
		return vselectHaving(pgStatStatementsCols, "s", has) + "\n" + pgssTop
	},
}

// pgssTop is the FROM clause of the adapted query.
const pgssTop = `FROM (SELECT * FROM pg_stat_statements
      ORDER BY total_exec_time DESC
      LIMIT 1000 /*top_n*/) s`

// pgssLater is a column that extension versions after 1.8 added: read
// from the row's jsonb j by QueryFor, falling back to the column's older
// names, and from the view itself by QueryForColumns.
func pgssLater(name, typ string, oldNames ...string) vcol {
	expr := "j->>'" + name + "'"
	for _, old := range oldNames {
		expr += ", j->>'" + old + "'"
	}
	if len(oldNames) > 0 {
		expr = "COALESCE(" + expr + ")"
	}
	return vcol{Name: name, Type: typ, Expr: expr, Alts: append([]string{name}, oldNames...)}
}

var pgStatStatementsCols = []vcol{
	// Columns every version from 1.8 on has, read directly.
	{Name: "userid", Type: "bigint", Expr: "s.userid"},
	{Name: "dbid", Type: "bigint", Expr: "s.dbid"},
	pgssLater("toplevel", "boolean"),
	{Name: "queryid", Type: "bigint", Expr: "s.queryid"},
	{Name: "query", Type: "text", Expr: "left(s.query, 4096)"},
	{Name: "plans", Type: "bigint", Expr: "s.plans"},
	{Name: "total_plan_time", Type: "double precision", Expr: "s.total_plan_time"},
	{Name: "min_plan_time", Type: "double precision", Expr: "s.min_plan_time"},
	{Name: "max_plan_time", Type: "double precision", Expr: "s.max_plan_time"},
	{Name: "mean_plan_time", Type: "double precision", Expr: "s.mean_plan_time"},
	{Name: "stddev_plan_time", Type: "double precision", Expr: "s.stddev_plan_time"},
	{Name: "calls", Type: "bigint", Expr: "s.calls"},
	{Name: "total_exec_time", Type: "double precision", Expr: "s.total_exec_time"},
	{Name: "min_exec_time", Type: "double precision", Expr: "s.min_exec_time"},
	{Name: "max_exec_time", Type: "double precision", Expr: "s.max_exec_time"},
	{Name: "mean_exec_time", Type: "double precision", Expr: "s.mean_exec_time"},
	{Name: "stddev_exec_time", Type: "double precision", Expr: "s.stddev_exec_time"},
	{Name: "rows", Type: "bigint", Expr: "s.rows"},
	{Name: "shared_blks_hit", Type: "bigint", Expr: "s.shared_blks_hit"},
	{Name: "shared_blks_read", Type: "bigint", Expr: "s.shared_blks_read"},
	{Name: "shared_blks_dirtied", Type: "bigint", Expr: "s.shared_blks_dirtied"},
	{Name: "shared_blks_written", Type: "bigint", Expr: "s.shared_blks_written"},
	{Name: "local_blks_hit", Type: "bigint", Expr: "s.local_blks_hit"},
	{Name: "local_blks_read", Type: "bigint", Expr: "s.local_blks_read"},
	{Name: "local_blks_dirtied", Type: "bigint", Expr: "s.local_blks_dirtied"},
	{Name: "local_blks_written", Type: "bigint", Expr: "s.local_blks_written"},
	{Name: "temp_blks_read", Type: "bigint", Expr: "s.temp_blks_read"},
	{Name: "temp_blks_written", Type: "bigint", Expr: "s.temp_blks_written"},
	pgssLater("shared_blk_read_time", "double precision", "blk_read_time"),
	pgssLater("shared_blk_write_time", "double precision", "blk_write_time"),
	pgssLater("local_blk_read_time", "double precision"),
	pgssLater("local_blk_write_time", "double precision"),
	pgssLater("temp_blk_read_time", "double precision"),
	pgssLater("temp_blk_write_time", "double precision"),
	{Name: "wal_records", Type: "bigint", Expr: "s.wal_records"},
	{Name: "wal_fpi", Type: "bigint", Expr: "s.wal_fpi"},
	{Name: "wal_bytes", Type: "numeric", Expr: "s.wal_bytes"},
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
