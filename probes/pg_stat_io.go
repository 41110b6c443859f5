package probes

// pgStatIO stores pg_stat_io (PostgreSQL 16+) and pg_stat_slru in one
// table, told apart by source ('io' or 'slru'): the FULL JOIN ON false is
// a union that keeps each view's own columns, NULL on the other view's
// rows. stats_reset is the one shared name and means the same in both.
// PostgreSQL 18 replaced op_bytes by the *_bytes columns; op_bytes is kept
// (NULL on 18) so that older servers' byte counts stay computable, and the
// *_bytes columns are NULL before 18.
var pgStatIO = Probe{
	Name:            "pg_stat_io",
	Scope:           ScopeServer,
	Description:     "I/O by backend type, object and context (pg_stat_io), plus SLRU cache rows (pg_stat_slru).",
	IntervalSeconds: 900,
	RetentionDays:   7,
	Snapshot:        true,
	Columns:         vcolumns(pgStatIOCols),
	Queries: vqueries(pgStatIOCols, Versioned{MinVersion: 160000, SQL: `FROM pg_catalog.pg_stat_io i
FULL JOIN pg_catalog.pg_stat_slru l ON false`}),
	Check: `SELECT CASE WHEN to_regclass('pg_catalog.pg_stat_io') IS NULL
            THEN 'view pg_stat_io does not exist (PostgreSQL 16+)' END`,
}

var pgStatIOCols = []vcol{
	{Name: "source", Type: "text", Expr: "CASE WHEN i.backend_type IS NOT NULL THEN 'io' ELSE 'slru' END"},
	{Name: "backend_type", Type: "text"},
	{Name: "object", Type: "text"},
	{Name: "context", Type: "text"},
	{Name: "reads", Type: "bigint"},
	{Name: "read_bytes", Type: "numeric", Since: 180000},
	{Name: "read_time", Type: "double precision"},
	{Name: "writes", Type: "bigint"},
	{Name: "write_bytes", Type: "numeric", Since: 180000},
	{Name: "write_time", Type: "double precision"},
	{Name: "writebacks", Type: "bigint"},
	{Name: "writeback_time", Type: "double precision"},
	{Name: "extends", Type: "bigint"},
	{Name: "extend_bytes", Type: "numeric", Since: 180000},
	{Name: "extend_time", Type: "double precision"},
	{Name: "op_bytes", Type: "bigint", Until: 180000},
	{Name: "hits", Type: "bigint"},
	{Name: "evictions", Type: "bigint"},
	{Name: "reuses", Type: "bigint"},
	{Name: "fsyncs", Type: "bigint"},
	{Name: "fsync_time", Type: "double precision"},
	{Name: "name", Type: "text"},
	{Name: "blks_zeroed", Type: "bigint"},
	{Name: "blks_hit", Type: "bigint"},
	{Name: "blks_read", Type: "bigint"},
	{Name: "blks_written", Type: "bigint"},
	{Name: "blks_exists", Type: "bigint"},
	{Name: "flushes", Type: "bigint"},
	{Name: "truncates", Type: "bigint"},
	{Name: "stats_reset", Type: "timestamptz", Expr: "coalesce(i.stats_reset, l.stats_reset)"},
}
