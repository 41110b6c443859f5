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
	Columns:         srcColumns(pgStatDatabaseCols),
	Queries:         srcQueries(pgStatDatabaseCols, "FROM pg_stat_database\nWHERE datname = current_database()"),
}

var pgStatDatabaseCols = []srcCol{
	{"datid", "bigint", "", 0},
	{"numbackends", "integer", "", 0},
	{"xact_commit", "bigint", "", 0},
	{"xact_rollback", "bigint", "", 0},
	{"blks_read", "bigint", "", 0},
	{"blks_hit", "bigint", "", 0},
	{"tup_returned", "bigint", "", 0},
	{"tup_fetched", "bigint", "", 0},
	{"tup_inserted", "bigint", "", 0},
	{"tup_updated", "bigint", "", 0},
	{"tup_deleted", "bigint", "", 0},
	{"conflicts", "bigint", "", 0},
	{"temp_files", "bigint", "", 0},
	{"temp_bytes", "bigint", "", 0},
	{"deadlocks", "bigint", "", 0},
	{"checksum_failures", "bigint", "", 0},
	{"checksum_last_failure", "timestamptz", "", 0},
	{"blk_read_time", "double precision", "", 0},
	{"blk_write_time", "double precision", "", 0},
	{"session_time", "double precision", "", 0},
	{"active_time", "double precision", "", 0},
	{"idle_in_transaction_time", "double precision", "", 0},
	{"sessions", "bigint", "", 0},
	{"sessions_abandoned", "bigint", "", 0},
	{"sessions_fatal", "bigint", "", 0},
	{"sessions_killed", "bigint", "", 0},
	{"parallel_workers_to_launch", "bigint", "", 180000},
	{"parallel_workers_launched", "bigint", "", 180000},
	{"stats_reset", "timestamptz", "", 0},
}
