package probes

// pgStatUserFunctions stores the call counts and times of the database's
// functions; the view has rows only for functions called while
// track_functions covered them.
var pgStatUserFunctions = Probe{
	Name:            "pg_stat_user_functions",
	Scope:           ScopeDatabase,
	Description:     "Calls and total/self time per tracked function (pg_stat_user_functions).",
	IntervalSeconds: 300,
	RetentionDays:   7,
	Columns:         srcColumns(pgStatUserFunctionsCols),
	Queries:         srcQueries(pgStatUserFunctionsCols, "FROM pg_stat_user_functions"),
}

var pgStatUserFunctionsCols = []srcCol{
	{"funcid", "bigint", "", 0},
	{"schemaname", "text", "", 0},
	{"funcname", "text", "", 0},
	{"calls", "bigint", "", 0},
	{"total_time", "double precision", "", 0},
	{"self_time", "double precision", "", 0},
}
