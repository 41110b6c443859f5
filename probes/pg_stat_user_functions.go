package probes

// pgStatUserFunctions stores the call counts and times of the database's
// functions; the view has rows only for functions called while
// track_functions covered them.
var pgStatUserFunctions = Probe{
	Name:            "pg_stat_user_functions",
	Scope:           ScopeDatabase,
	Key:             []string{"funcid"},
	Description:     "Calls and total/self time per tracked function (pg_stat_user_functions).",
	IntervalSeconds: 300,
	RetentionDays:   7,
	Activity:        "coalesce(o.calls, 0)",
	Columns:         vcolumns(pgStatUserFunctionsCols),
	Queries:         vqueries(pgStatUserFunctionsCols, Versioned{MinVersion: 140000, SQL: "FROM pg_stat_user_functions"}),
}

var pgStatUserFunctionsCols = []vcol{
	{Name: "funcid", Type: "bigint"},
	{Name: "schemaname", Type: "text"},
	{Name: "funcname", Type: "text"},
	{Name: "calls", Type: "bigint"},
	{Name: "total_time", Type: "double precision"},
	{Name: "self_time", Type: "double precision"},
}
