package probes

// pgStatConnectionSecurity joins each process's SSL state to its GSSAPI
// state; both views have exactly one row per process, keyed by pid.
var pgStatConnectionSecurity = Probe{
	Name:            "pg_stat_connection_security",
	Scope:           ScopeServer,
	Description:     "SSL and GSSAPI state of every connection (pg_stat_ssl joined to pg_stat_gssapi).",
	IntervalSeconds: 300,
	RetentionDays:   7,
	Columns:         vcolumns(pgStatConnectionSecurityCols),
	Queries: vqueries(pgStatConnectionSecurityCols, Versioned{MinVersion: 140000, SQL: `FROM pg_catalog.pg_stat_ssl s
LEFT JOIN pg_catalog.pg_stat_gssapi g ON g.pid = s.pid`}),
}

var pgStatConnectionSecurityCols = []vcol{
	{Name: "pid", Type: "integer", Expr: "s.pid"},
	{Name: "ssl", Type: "boolean"},
	{Name: "version", Type: "text"},
	{Name: "cipher", Type: "text"},
	{Name: "bits", Type: "integer"},
	{Name: "client_dn", Type: "text"},
	{Name: "client_serial", Type: "numeric"},
	{Name: "issuer_dn", Type: "text"},
	{Name: "gss_authenticated", Type: "boolean"},
	{Name: "principal", Type: "text"},
	{Name: "encrypted", Type: "boolean"},
	{Name: "credentials_delegated", Type: "boolean", Since: 160000},
}
