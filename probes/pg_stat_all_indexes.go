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
	Columns:         vcolumns(pgStatAllIndexesCols),
	Queries: vqueries(pgStatAllIndexesCols,
		Versioned{MinVersion: 140000, SQL: "FROM pg_stat_all_indexes s\nLEFT JOIN pg_statio_all_indexes io ON io.indexrelid = s.indexrelid"}),
	Snapshot: true,
}

var pgStatAllIndexesCols = []vcol{
	{Name: "relid", Type: "bigint", Expr: "s.relid"},
	{Name: "indexrelid", Type: "bigint", Expr: "s.indexrelid"},
	{Name: "schemaname", Type: "text", Expr: "s.schemaname"},
	{Name: "relname", Type: "text", Expr: "s.relname"},
	{Name: "indexrelname", Type: "text", Expr: "s.indexrelname"},
	{Name: "idx_scan", Type: "bigint"},
	{Name: "last_idx_scan", Type: "timestamptz", Since: 160000},
	{Name: "idx_tup_read", Type: "bigint"},
	{Name: "idx_tup_fetch", Type: "bigint"},
	{Name: "idx_blks_read", Type: "bigint"},
	{Name: "idx_blks_hit", Type: "bigint"},
}
