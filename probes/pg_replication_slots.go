package probes

// pgReplicationSlots joins each slot to its statistics (logical slots only
// have any) and adds retained_wal_bytes: how much WAL the slot holds back,
// measured from the current WAL position, which on a standby is the last
// received (or, without a WAL receiver, replayed) position because
// pg_current_wal_lsn() fails during recovery.
var pgReplicationSlots = Probe{
	Name:            "pg_replication_slots",
	Scope:           ScopeServer,
	Description:     "Replication slots with their statistics and the WAL bytes each one retains.",
	IntervalSeconds: 300,
	RetentionDays:   7,
	Columns:         vcolumns(pgReplicationSlotsCols),
	Queries: vqueries(pgReplicationSlotsCols, Versioned{MinVersion: 140000, SQL: `FROM pg_catalog.pg_replication_slots s
LEFT JOIN pg_catalog.pg_stat_replication_slots t ON t.slot_name = s.slot_name`}),
}

var pgReplicationSlotsCols = []vcol{
	{Name: "slot_name", Type: "text", Expr: "s.slot_name"},
	{Name: "plugin", Type: "text"},
	{Name: "slot_type", Type: "text"},
	{Name: "datoid", Type: "bigint"},
	{Name: "database", Type: "text"},
	{Name: "temporary", Type: "boolean"},
	{Name: "active", Type: "boolean"},
	{Name: "active_pid", Type: "integer"},
	// "xmin" is a system column name and cannot be a table column.
	{Name: "slot_xmin", Type: "bigint", Expr: "s.xmin::text"},
	{Name: "catalog_xmin", Type: "bigint", Expr: "catalog_xmin::text"},
	{Name: "restart_lsn", Type: "pg_lsn"},
	{Name: "confirmed_flush_lsn", Type: "pg_lsn"},
	{Name: "wal_status", Type: "text"},
	{Name: "safe_wal_size", Type: "bigint"},
	{Name: "two_phase", Type: "boolean"},
	{Name: "two_phase_at", Type: "pg_lsn", Since: 180000},
	{Name: "inactive_since", Type: "timestamptz", Since: 170000},
	{Name: "conflicting", Type: "boolean", Since: 160000},
	{Name: "invalidation_reason", Type: "text", Since: 170000},
	{Name: "failover", Type: "boolean", Since: 170000},
	{Name: "synced", Type: "boolean", Since: 170000},
	{Name: "spill_txns", Type: "bigint"},
	{Name: "spill_count", Type: "bigint"},
	{Name: "spill_bytes", Type: "bigint"},
	{Name: "stream_txns", Type: "bigint"},
	{Name: "stream_count", Type: "bigint"},
	{Name: "stream_bytes", Type: "bigint"},
	{Name: "total_txns", Type: "bigint"},
	{Name: "total_bytes", Type: "bigint"},
	{Name: "stats_reset", Type: "timestamptz"},
	{Name: "retained_wal_bytes", Type: "numeric", Expr: `CASE WHEN pg_catalog.pg_is_in_recovery()
         THEN coalesce(pg_catalog.pg_last_wal_receive_lsn(), pg_catalog.pg_last_wal_replay_lsn())
         ELSE pg_catalog.pg_current_wal_lsn() END - s.restart_lsn`},
}
