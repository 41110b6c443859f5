package probes

// pgStatDatabase stores the current database's row of pg_stat_database.
// datname is left out: it is the database_name the fetcher stores in front
// of every database-scoped row.
var pgStatDatabase = Probe{
	Name:            "pg_stat_database",
	Scope:           ScopeDatabase,
	Description:     "Activity, I/O, conflict and session counters of the database (pg_stat_database).",
	IntervalSeconds: 300,
	RetentionDays:   7,
	Columns:         vcolumns(pgStatDatabaseCols),
	Queries:         vqueries(pgStatDatabaseCols, Versioned{MinVersion: 140000, SQL: "FROM pg_stat_database\nWHERE datname = current_database()"}),
}

var pgStatDatabaseCols = []vcol{
	{Name: "datid", Type: "bigint"},
	{Name: "numbackends", Type: "integer"},
	{Name: "xact_commit", Type: "bigint"},
	{Name: "xact_rollback", Type: "bigint"},
	{Name: "blks_read", Type: "bigint"},
	{Name: "blks_hit", Type: "bigint"},
	{Name: "tup_returned", Type: "bigint"},
	{Name: "tup_fetched", Type: "bigint"},
	{Name: "tup_inserted", Type: "bigint"},
	{Name: "tup_updated", Type: "bigint"},
	{Name: "tup_deleted", Type: "bigint"},
	{Name: "conflicts", Type: "bigint"},
	{Name: "temp_files", Type: "bigint"},
	{Name: "temp_bytes", Type: "bigint"},
	{Name: "deadlocks", Type: "bigint"},
	{Name: "checksum_failures", Type: "bigint"},
	{Name: "checksum_last_failure", Type: "timestamptz"},
	{Name: "blk_read_time", Type: "double precision"},
	{Name: "blk_write_time", Type: "double precision"},
	{Name: "session_time", Type: "double precision"},
	{Name: "active_time", Type: "double precision"},
	{Name: "idle_in_transaction_time", Type: "double precision"},
	{Name: "sessions", Type: "bigint"},
	{Name: "sessions_abandoned", Type: "bigint"},
	{Name: "sessions_fatal", Type: "bigint"},
	{Name: "sessions_killed", Type: "bigint"},
	{Name: "parallel_workers_to_launch", Type: "bigint", Since: 180000},
	{Name: "parallel_workers_launched", Type: "bigint", Since: 180000},
	{Name: "stats_reset", Type: "timestamptz"},
}
