package probes

// pgNodeRole summarises the server's place in replication. standby_count
// counts physical WAL senders that stream to a standby (not base backups,
// not logical walsenders, which hold a logical slot). publication_count is
// for the database the probe runs in only, because pg_publication is per
// database; subscriptions and slots are cluster-wide.
//
// pg_stat_replication builds a row per backend before joining the WAL
// senders; the uncorrelated EXISTS on pg_stat_get_wal_senders() is a
// one-time filter that skips it on a server without any (see
// pg_stat_replication).
//
// role is derived in this order, physical topology first because it
// decides failover:
//   - in recovery: cascading_standby when it feeds standbys, else standby;
//   - standbys attached: primary;
//   - publishes (logical slots or publications) and subscribes: bidirectional;
//   - subscribes only: logical_subscriber; publishes only: logical_publisher;
//   - otherwise standalone.
var pgNodeRole = Probe{
	Name:            "pg_node_role",
	Scope:           ScopeServer,
	Description:     "Recovery state, timeline, replication peers and the derived replication role of the server.",
	IntervalSeconds: 300,
	RetentionDays:   30,
	Columns: []Column{
		{"pg_is_in_recovery", "boolean"},
		{"timeline_id", "integer"},
		{"postmaster_start_time", "timestamptz"},
		{"standby_count", "integer"},
		{"wal_receiver_active", "boolean"},
		{"publication_count", "integer"},
		{"subscription_count", "integer"},
		{"logical_slot_count", "integer"},
		{"role", "text"},
	},
	Queries: []Versioned{{MinVersion: 140000, SQL: `SELECT n.*,
       CASE WHEN n.pg_is_in_recovery THEN
                 CASE WHEN n.standby_count > 0 THEN 'cascading_standby' ELSE 'standby' END
            WHEN n.standby_count > 0 THEN 'primary'
            WHEN (n.logical_slot_count > 0 OR n.publication_count > 0) AND n.subscription_count > 0 THEN 'bidirectional'
            WHEN n.subscription_count > 0 THEN 'logical_subscriber'
            WHEN n.logical_slot_count > 0 OR n.publication_count > 0 THEN 'logical_publisher'
            ELSE 'standalone' END::text AS role
FROM (SELECT pg_catalog.pg_is_in_recovery()::boolean AS pg_is_in_recovery,
             (SELECT timeline_id FROM pg_catalog.pg_control_checkpoint())::integer AS timeline_id,
             pg_catalog.pg_postmaster_start_time()::timestamptz AS postmaster_start_time,
             (SELECT count(*) FROM pg_catalog.pg_stat_replication r
              WHERE r.state <> 'backup' AND NOT EXISTS (SELECT FROM pg_catalog.pg_replication_slots s
                                                      WHERE s.active_pid = r.pid AND s.slot_type = 'logical')
                AND EXISTS (SELECT FROM pg_catalog.pg_stat_get_wal_senders())
             )::integer AS standby_count,
             EXISTS (SELECT FROM pg_catalog.pg_stat_wal_receiver)::boolean AS wal_receiver_active,
             (SELECT count(*) FROM pg_catalog.pg_publication)::integer AS publication_count,
             (SELECT count(oid) FROM pg_catalog.pg_subscription)::integer AS subscription_count,
             (SELECT count(*) FROM pg_catalog.pg_replication_slots WHERE slot_type = 'logical')::integer
                 AS logical_slot_count) n`}},
}
