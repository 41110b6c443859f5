package probes

// pgIdentFileMappings stores the parsed pg_ident.conf (PostgreSQL 15+).
// Like pg_hba_file_rules it needs superuser or
//
//	GRANT SELECT ON pg_catalog.pg_ident_file_mappings TO <role>;
//	GRANT EXECUTE ON FUNCTION pg_catalog.pg_ident_file_mappings() TO <role>;
//
// because pg_monitor is not granted either; the Check says which is missing.
var pgIdentFileMappings = Probe{
	Name:            "pg_ident_file_mappings",
	Scope:           ScopeServer,
	Description:     "User name maps as parsed from pg_ident.conf (pg_ident_file_mappings).",
	IntervalSeconds: 3600,
	RetentionDays:   365,
	ChangeTracked:   true,
	Columns:         vcolumns(pgIdentFileMappingsCols),
	Queries:         vqueries(pgIdentFileMappingsCols, Versioned{MinVersion: 150000, SQL: "FROM pg_catalog.pg_ident_file_mappings"}),
	Check: `SELECT CASE WHEN to_regclass('pg_catalog.pg_ident_file_mappings') IS NULL
            THEN 'view pg_ident_file_mappings does not exist (PostgreSQL 15+)'
            WHEN NOT has_table_privilege('pg_catalog.pg_ident_file_mappings', 'SELECT')
              OR NOT has_function_privilege('pg_catalog.pg_ident_file_mappings()', 'EXECUTE')
            THEN 'reading pg_ident_file_mappings needs superuser, or GRANT SELECT ON pg_catalog.pg_ident_file_mappings'
                 || ' and GRANT EXECUTE ON FUNCTION pg_catalog.pg_ident_file_mappings() to the monitoring role' END`,
}

var pgIdentFileMappingsCols = []vcol{
	{Name: "map_number", Type: "integer", Since: 160000},
	{Name: "file_name", Type: "text", Since: 160000},
	{Name: "line_number", Type: "integer"},
	{Name: "map_name", Type: "text"},
	{Name: "sys_name", Type: "text"},
	{Name: "pg_username", Type: "text"},
	{Name: "error", Type: "text"},
}
