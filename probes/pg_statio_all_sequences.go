package probes

// pgStatioAllSequences stores the block I/O of every sequence of the
// database.
var pgStatioAllSequences = Probe{
	Name:            "pg_statio_all_sequences",
	Scope:           ScopeDatabase,
	Description:     "Block reads and buffer hits per sequence (pg_statio_all_sequences).",
	IntervalSeconds: 300,
	RetentionDays:   7,
	Columns:         srcColumns(pgStatioAllSequencesCols),
	Queries:         srcQueries(pgStatioAllSequencesCols, "FROM pg_statio_all_sequences"),
}

var pgStatioAllSequencesCols = []srcCol{
	{"relid", "bigint", "", 0},
	{"schemaname", "text", "", 0},
	{"relname", "text", "", 0},
	{"blks_read", "bigint", "", 0},
	{"blks_hit", "bigint", "", 0},
}
