package probes

// pgExtension stores the extensions installed in the database. The oid
// columns extnamespace and extowner are stored as the names they refer to,
// which is what a reader of the history wants and what stays comparable
// across dump/restore.
var pgExtension = Probe{
	Name:            "pg_extension",
	Scope:           ScopeDatabase,
	Description:     "Extensions installed in the database with version, schema and owner (pg_extension).",
	IntervalSeconds: 3600,
	RetentionDays:   30,
	Columns:         vcolumns(pgExtensionCols),
	Queries: vqueries(pgExtensionCols,
		Versioned{MinVersion: 140000, SQL: "FROM pg_extension e\nJOIN pg_namespace n ON n.oid = e.extnamespace"}),
	ChangeTracked: true,
}

var pgExtensionCols = []vcol{
	{Name: "extname", Type: "text"},
	{Name: "extversion", Type: "text"},
	{Name: "extnamespace", Type: "text", Expr: "n.nspname"},
	{Name: "extrelocatable", Type: "boolean"},
	{Name: "extowner", Type: "text", Expr: "pg_get_userbyid(e.extowner)"},
}
