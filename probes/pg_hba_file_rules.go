package probes

// pgHBAFileRules stores the parsed pg_hba.conf. pg_monitor is not enough to
// read it: PostgreSQL revokes both the view and the function behind it from
// PUBLIC, and a view's functions are checked against the caller, so the
// monitoring role needs superuser or
//
//	GRANT SELECT ON pg_catalog.pg_hba_file_rules TO <role>;
//	GRANT EXECUTE ON FUNCTION pg_catalog.pg_hba_file_rules() TO <role>;
//
// The Check reports the missing grant instead of failing every run.
var pgHBAFileRules = Probe{
	Name:            "pg_hba_file_rules",
	Scope:           ScopeServer,
	Description:     "Client authentication rules as parsed from pg_hba.conf (pg_hba_file_rules).",
	IntervalSeconds: 3600,
	RetentionDays:   365,
	ChangeTracked:   true,
	Columns:         vcolumns(pgHBAFileRulesCols),
	Queries:         vqueries(pgHBAFileRulesCols, Versioned{MinVersion: 140000, SQL: "FROM pg_catalog.pg_hba_file_rules"}),
	Check: `SELECT CASE WHEN NOT has_table_privilege('pg_catalog.pg_hba_file_rules', 'SELECT')
              OR NOT has_function_privilege('pg_catalog.pg_hba_file_rules()', 'EXECUTE')
            THEN 'reading pg_hba_file_rules needs superuser, or GRANT SELECT ON pg_catalog.pg_hba_file_rules'
                 || ' and GRANT EXECUTE ON FUNCTION pg_catalog.pg_hba_file_rules() to the monitoring role' END`,
}

var pgHBAFileRulesCols = []vcol{
	{Name: "rule_number", Type: "integer", Since: 160000},
	{Name: "file_name", Type: "text", Since: 160000},
	{Name: "line_number", Type: "integer"},
	{Name: "type", Type: "text"},
	{Name: "database", Type: "text[]"},
	{Name: "user_name", Type: "text[]"},
	{Name: "address", Type: "text"},
	{Name: "netmask", Type: "text"},
	{Name: "auth_method", Type: "text"},
	{Name: "options", Type: "text[]"},
	{Name: "error", Type: "text"},
}
