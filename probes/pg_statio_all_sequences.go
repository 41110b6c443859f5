package probes

// pgStatioAllSequences stores the block I/O of every sequence of the
// database.
var pgStatioAllSequences = Probe{
	Name:            "pg_statio_all_sequences",
	Scope:           ScopeDatabase,
	Key:             []string{"relid"},
	Description:     "Block reads and buffer hits per sequence (pg_statio_all_sequences).",
	IntervalSeconds: 300,
	RetentionDays:   7,
	Activity:        "coalesce(o.blks_read, 0) + coalesce(o.blks_hit, 0)",
	Columns:         vcolumns(pgStatioAllSequencesCols),
	Queries:         vqueries(pgStatioAllSequencesCols, Versioned{MinVersion: 140000, SQL: "FROM pg_statio_all_sequences"}),
}

var pgStatioAllSequencesCols = []vcol{
	{Name: "relid", Type: "bigint"},
	{Name: "schemaname", Type: "text"},
	{Name: "relname", Type: "text"},
	{Name: "blks_read", Type: "bigint"},
	{Name: "blks_hit", Type: "bigint"},
}
