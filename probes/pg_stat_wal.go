package probes

// pgStatWAL is one row of WAL generation counters joined to the WAL
// archiver's. PostgreSQL 18 moved WAL write and sync counts and timings to
// pg_stat_io (object 'wal'); wal_write, wal_sync, wal_write_time and
// wal_sync_time are kept and are NULL from 18 on. archiver_stats_reset is
// prefixed because both views have a stats_reset.
var pgStatWAL = Probe{
	Name:            "pg_stat_wal",
	Scope:           ScopeServer,
	Description:     "WAL generation and archiver counters (pg_stat_wal, pg_stat_archiver).",
	IntervalSeconds: 600,
	RetentionDays:   7,
	Snapshot:        true,
	Columns:         vcolumns(pgStatWALCols),
	Queries: vqueries(pgStatWALCols, Versioned{MinVersion: 140000, SQL: `FROM pg_catalog.pg_stat_wal w
CROSS JOIN pg_catalog.pg_stat_archiver a`}),
}

var pgStatWALCols = []vcol{
	{Name: "wal_records", Type: "bigint"},
	{Name: "wal_fpi", Type: "bigint"},
	{Name: "wal_bytes", Type: "numeric"},
	{Name: "wal_buffers_full", Type: "bigint"},
	{Name: "wal_write", Type: "bigint", Until: 180000},
	{Name: "wal_sync", Type: "bigint", Until: 180000},
	{Name: "wal_write_time", Type: "double precision", Until: 180000},
	{Name: "wal_sync_time", Type: "double precision", Until: 180000},
	{Name: "stats_reset", Type: "timestamptz", Expr: "w.stats_reset"},
	{Name: "archived_count", Type: "bigint"},
	{Name: "last_archived_wal", Type: "text"},
	{Name: "last_archived_time", Type: "timestamptz"},
	{Name: "failed_count", Type: "bigint"},
	{Name: "last_failed_wal", Type: "text"},
	{Name: "last_failed_time", Type: "timestamptz"},
	{Name: "archiver_stats_reset", Type: "timestamptz", Expr: "a.stats_reset"},
}
