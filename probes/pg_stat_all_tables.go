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
	Columns:         srcColumns(pgStatAllTablesCols),
	Queries: srcQueries(pgStatAllTablesCols,
		"FROM pg_stat_all_tables s\nLEFT JOIN pg_statio_all_tables io ON io.relid = s.relid"),
	Snapshot: true,
}

var pgStatAllTablesCols = []srcCol{
	{"relid", "bigint", "s.relid", 0},
	{"schemaname", "text", "s.schemaname", 0},
	{"relname", "text", "s.relname", 0},
	{"seq_scan", "bigint", "", 0},
	{"last_seq_scan", "timestamptz", "", 160000},
	{"seq_tup_read", "bigint", "", 0},
	{"idx_scan", "bigint", "", 0},
	{"last_idx_scan", "timestamptz", "", 160000},
	{"idx_tup_fetch", "bigint", "", 0},
	{"n_tup_ins", "bigint", "", 0},
	{"n_tup_upd", "bigint", "", 0},
	{"n_tup_del", "bigint", "", 0},
	{"n_tup_hot_upd", "bigint", "", 0},
	{"n_tup_newpage_upd", "bigint", "", 160000},
	{"n_live_tup", "bigint", "", 0},
	{"n_dead_tup", "bigint", "", 0},
	{"n_mod_since_analyze", "bigint", "", 0},
	{"n_ins_since_vacuum", "bigint", "", 0},
	{"last_vacuum", "timestamptz", "", 0},
	{"last_autovacuum", "timestamptz", "", 0},
	{"last_analyze", "timestamptz", "", 0},
	{"last_autoanalyze", "timestamptz", "", 0},
	{"vacuum_count", "bigint", "", 0},
	{"autovacuum_count", "bigint", "", 0},
	{"analyze_count", "bigint", "", 0},
	{"autoanalyze_count", "bigint", "", 0},
	{"total_vacuum_time", "double precision", "", 180000},
	{"total_autovacuum_time", "double precision", "", 180000},
	{"total_analyze_time", "double precision", "", 180000},
	{"total_autoanalyze_time", "double precision", "", 180000},
	{"heap_blks_read", "bigint", "", 0},
	{"heap_blks_hit", "bigint", "", 0},
	{"idx_blks_read", "bigint", "", 0},
	{"idx_blks_hit", "bigint", "", 0},
	{"toast_blks_read", "bigint", "", 0},
	{"toast_blks_hit", "bigint", "", 0},
	{"tidx_blks_read", "bigint", "", 0},
	{"tidx_blks_hit", "bigint", "", 0},
}
