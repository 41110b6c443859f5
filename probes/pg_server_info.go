package probes

// pgServerInfo is one row describing the server. data_directory is read
// through pg_settings, which hides it (NULL here) from roles without
// pg_read_all_settings instead of raising an error as current_setting does;
// pg_monitor has that role. extensions lists name=version of the
// extensions installed in the database the probe runs in (the
// connection's maintenance database), sorted by name.
var pgServerInfo = Probe{
	Name:            "pg_server_info",
	Scope:           ScopeServer,
	Description:     "Server version, identity, capacity settings and installed extensions.",
	IntervalSeconds: 3600,
	RetentionDays:   365,
	ChangeTracked:   true,
	Columns: []Column{
		{"version", "text"},
		{"server_version_num", "integer"},
		{"cluster_name", "text"},
		{"data_directory", "text"},
		{"max_connections", "integer"},
		{"max_wal_senders", "integer"},
		{"max_replication_slots", "integer"},
		{"system_identifier", "bigint"},
		{"extensions", "text[]"},
	},
	Queries: []Versioned{{MinVersion: 140000, SQL: `SELECT pg_catalog.version()::text AS version,
       current_setting('server_version_num')::integer AS server_version_num,
       current_setting('cluster_name')::text AS cluster_name,
       (SELECT setting FROM pg_catalog.pg_settings WHERE name = 'data_directory')::text AS data_directory,
       current_setting('max_connections')::integer AS max_connections,
       current_setting('max_wal_senders')::integer AS max_wal_senders,
       current_setting('max_replication_slots')::integer AS max_replication_slots,
       (SELECT system_identifier FROM pg_catalog.pg_control_system())::bigint AS system_identifier,
       ARRAY(SELECT extname || '=' || extversion FROM pg_catalog.pg_extension ORDER BY extname)::text[] AS extensions`}},
}
