package probes

// pgStatAllIndexes stores one row per index of the database:
// pg_stat_all_indexes with the block I/O of pg_statio_all_indexes joined on
// indexrelid. The two views share only their key columns.
var pgStatAllIndexes = Probe{
	Name:            "pg_stat_all_indexes",
	Scope:           ScopeDatabase,
	Description:     "Scan, tuple and block I/O counters per index (pg_stat_all_indexes, pg_statio_all_indexes).",
	IntervalSeconds: 300,
	RetentionDays:   7,
	Columns:         srcColumns(pgStatAllIndexesCols),
	Queries: srcQueries(pgStatAllIndexesCols,
		"FROM pg_stat_all_indexes s\nLEFT JOIN pg_statio_all_indexes io ON io.indexrelid = s.indexrelid"),
	Snapshot: true,
}

var pgStatAllIndexesCols = []srcCol{
	{"relid", "bigint", "s.relid", 0},
	{"indexrelid", "bigint", "s.indexrelid", 0},
	{"schemaname", "text", "s.schemaname", 0},
	{"relname", "text", "s.relname", 0},
	{"indexrelname", "text", "s.indexrelname", 0},
	{"idx_scan", "bigint", "", 0},
	{"last_idx_scan", "timestamptz", "", 160000},
	{"idx_tup_read", "bigint", "", 0},
	{"idx_tup_fetch", "bigint", "", 0},
	{"idx_blks_read", "bigint", "", 0},
	{"idx_blks_hit", "bigint", "", 0},
}
