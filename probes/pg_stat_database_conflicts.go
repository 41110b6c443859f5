package probes

// pgStatDatabaseConflicts stores the current database's row of
// pg_stat_database_conflicts (recovery conflicts, non-zero on standbys).
// datname is left out: it is the fetcher's database_name.
var pgStatDatabaseConflicts = Probe{
	Name:            "pg_stat_database_conflicts",
	Scope:           ScopeDatabase,
	Description:     "Queries cancelled by recovery conflicts in the database (pg_stat_database_conflicts).",
	IntervalSeconds: 300,
	RetentionDays:   7,
	Columns:         srcColumns(pgStatDatabaseConflictsCols),
	Queries: srcQueries(pgStatDatabaseConflictsCols,
		"FROM pg_stat_database_conflicts\nWHERE datname = current_database()"),
}

var pgStatDatabaseConflictsCols = []srcCol{
	{"datid", "bigint", "", 0},
	{"confl_tablespace", "bigint", "", 0},
	{"confl_lock", "bigint", "", 0},
	{"confl_snapshot", "bigint", "", 0},
	{"confl_bufferpin", "bigint", "", 0},
	{"confl_deadlock", "bigint", "", 0},
	{"confl_active_logicalslot", "bigint", "", 160000},
}
