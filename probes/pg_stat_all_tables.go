package probes

// pgStatAllTables stores one row per table of the database:
// pg_stat_all_tables with the block I/O of pg_statio_all_tables joined on
// relid. The two views share only relid, schemaname and relname, so every
// other column keeps its own name.
var pgStatAllTables = Probe{
	Name:            "pg_stat_all_tables",
	Scope:           ScopeDatabase,
	Description:     "Scan, tuple, vacuum/analyze and block I/O counters per table (pg_stat_all_tables, pg_statio_all_tables).",
	IntervalSeconds: 300,
	RetentionDays:   7,
	Columns:         vcolumns(pgStatAllTablesCols),
	Queries: vqueries(pgStatAllTablesCols,
		Versioned{MinVersion: 140000, SQL: "FROM pg_stat_all_tables s\nLEFT JOIN pg_statio_all_tables io ON io.relid = s.relid"}),
	Snapshot: true,
}

var pgStatAllTablesCols = []vcol{
	{Name: "relid", Type: "bigint", Expr: "s.relid"},
	{Name: "schemaname", Type: "text", Expr: "s.schemaname"},
	{Name: "relname", Type: "text", Expr: "s.relname"},
	{Name: "seq_scan", Type: "bigint"},
	{Name: "last_seq_scan", Type: "timestamptz", Since: 160000},
	{Name: "seq_tup_read", Type: "bigint"},
	{Name: "idx_scan", Type: "bigint"},
	{Name: "last_idx_scan", Type: "timestamptz", Since: 160000},
	{Name: "idx_tup_fetch", Type: "bigint"},
	{Name: "n_tup_ins", Type: "bigint"},
	{Name: "n_tup_upd", Type: "bigint"},
	{Name: "n_tup_del", Type: "bigint"},
	{Name: "n_tup_hot_upd", Type: "bigint"},
	{Name: "n_tup_newpage_upd", Type: "bigint", Since: 160000},
	{Name: "n_live_tup", Type: "bigint"},
	{Name: "n_dead_tup", Type: "bigint"},
	{Name: "n_mod_since_analyze", Type: "bigint"},
	{Name: "n_ins_since_vacuum", Type: "bigint"},
	{Name: "last_vacuum", Type: "timestamptz"},
	{Name: "last_autovacuum", Type: "timestamptz"},
	{Name: "last_analyze", Type: "timestamptz"},
	{Name: "last_autoanalyze", Type: "timestamptz"},
	{Name: "vacuum_count", Type: "bigint"},
	{Name: "autovacuum_count", Type: "bigint"},
	{Name: "analyze_count", Type: "bigint"},
	{Name: "autoanalyze_count", Type: "bigint"},
	{Name: "total_vacuum_time", Type: "double precision", Since: 180000},
	{Name: "total_autovacuum_time", Type: "double precision", Since: 180000},
	{Name: "total_analyze_time", Type: "double precision", Since: 180000},
	{Name: "total_autoanalyze_time", Type: "double precision", Since: 180000},
	{Name: "heap_blks_read", Type: "bigint"},
	{Name: "heap_blks_hit", Type: "bigint"},
	{Name: "idx_blks_read", Type: "bigint"},
	{Name: "idx_blks_hit", Type: "bigint"},
	{Name: "toast_blks_read", Type: "bigint"},
	{Name: "toast_blks_hit", Type: "bigint"},
	{Name: "tidx_blks_read", Type: "bigint"},
	{Name: "tidx_blks_hit", Type: "bigint"},
}
