package probes

// pgStatActivity samples every backend except the collector's own session,
// whose row would only ever show this query. The columns are the same on
// PostgreSQL 14 to 18.
var pgStatActivity = Probe{
	Name:            "pg_stat_activity",
	Scope:           ScopeServer,
	Description:     "One row per server process (pg_stat_activity), without the collector's own backend.",
	IntervalSeconds: 60,
	RetentionDays:   7,
	Columns: []Column{
		{"datid", "bigint"},
		{"datname", "text"},
		{"pid", "integer"},
		{"leader_pid", "integer"},
		{"usesysid", "bigint"},
		{"usename", "text"},
		{"application_name", "text"},
		{"client_addr", "inet"},
		{"client_hostname", "text"},
		{"client_port", "integer"},
		{"backend_start", "timestamptz"},
		{"xact_start", "timestamptz"},
		{"query_start", "timestamptz"},
		{"state_change", "timestamptz"},
		{"wait_event_type", "text"},
		{"wait_event", "text"},
		{"state", "text"},
		{"backend_xid", "bigint"},
		{"backend_xmin", "bigint"},
		{"query_id", "bigint"},
		{"query", "text"},
		{"backend_type", "text"},
	},
	Queries: []Versioned{{MinVersion: 140000, SQL: `SELECT datid::bigint AS datid, datname::text AS datname, pid::integer AS pid,
       leader_pid::integer AS leader_pid, usesysid::bigint AS usesysid, usename::text AS usename,
       application_name::text AS application_name, client_addr::inet AS client_addr,
       client_hostname::text AS client_hostname, client_port::integer AS client_port,
       backend_start::timestamptz AS backend_start, xact_start::timestamptz AS xact_start,
       query_start::timestamptz AS query_start, state_change::timestamptz AS state_change,
       wait_event_type::text AS wait_event_type, wait_event::text AS wait_event, state::text AS state,
       backend_xid::text::bigint AS backend_xid, backend_xmin::text::bigint AS backend_xmin,
       query_id::bigint AS query_id, query::text AS query, backend_type::text AS backend_type
FROM pg_catalog.pg_stat_activity
WHERE pid <> pg_catalog.pg_backend_pid()`}},
}
