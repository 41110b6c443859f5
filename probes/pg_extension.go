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
	Columns:         srcColumns(pgExtensionCols),
	Queries: srcQueries(pgExtensionCols,
		"FROM pg_extension e\nJOIN pg_namespace n ON n.oid = e.extnamespace"),
	ChangeTracked: true,
}

var pgExtensionCols = []srcCol{
	{"extname", "text", "", 0},
	{"extversion", "text", "", 0},
	{"extnamespace", "text", "n.nspname", 0},
	{"extrelocatable", "boolean", "", 0},
	{"extowner", "text", "pg_get_userbyid(e.extowner)", 0},
}
