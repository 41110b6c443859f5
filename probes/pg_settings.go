package probes

// pgSettings stores every run-time parameter with all of pg_settings'
// columns, none of which changes with time alone, so change tracking
// stores a new snapshot only when a setting really changed.
var pgSettings = Probe{
	Name:            "pg_settings",
	Scope:           ScopeServer,
	Description:     "Run-time configuration parameters (pg_settings).",
	IntervalSeconds: 3600,
	RetentionDays:   365,
	ChangeTracked:   true,
	Columns: []Column{
		{"name", "text"},
		{"setting", "text"},
		{"unit", "text"},
		{"category", "text"},
		{"short_desc", "text"},
		{"extra_desc", "text"},
		{"context", "text"},
		{"vartype", "text"},
		{"source", "text"},
		{"min_val", "text"},
		{"max_val", "text"},
		{"enumvals", "text[]"},
		{"boot_val", "text"},
		{"reset_val", "text"},
		{"sourcefile", "text"},
		{"sourceline", "integer"},
		{"pending_restart", "boolean"},
	},
	Queries: []Versioned{{MinVersion: 140000, SQL: `SELECT name::text AS name, setting::text AS setting, unit::text AS unit,
       category::text AS category, short_desc::text AS short_desc, extra_desc::text AS extra_desc,
       context::text AS context, vartype::text AS vartype, source::text AS source,
       min_val::text AS min_val, max_val::text AS max_val, enumvals::text[] AS enumvals,
       boot_val::text AS boot_val, reset_val::text AS reset_val, sourcefile::text AS sourcefile,
       sourceline::integer AS sourceline, pending_restart::boolean AS pending_restart
FROM pg_catalog.pg_settings`}},
}
