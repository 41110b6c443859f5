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
	Columns:         vcolumns(pgStatDatabaseConflictsCols),
	Queries: vqueries(pgStatDatabaseConflictsCols,
		Versioned{MinVersion: 140000, SQL: "FROM pg_stat_database_conflicts\nWHERE datname = current_database()"}),
}

var pgStatDatabaseConflictsCols = []vcol{
	{Name: "datid", Type: "bigint"},
	{Name: "confl_tablespace", Type: "bigint"},
	{Name: "confl_lock", Type: "bigint"},
	{Name: "confl_snapshot", Type: "bigint"},
	{Name: "confl_bufferpin", Type: "bigint"},
	{Name: "confl_deadlock", Type: "bigint"},
	{Name: "confl_active_logicalslot", Type: "bigint", Since: 160000},
}
