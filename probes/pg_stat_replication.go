package probes

// pgStatReplication stores both ends of streaming replication in one table:
// role 'primary' rows come from pg_stat_replication (one per WAL sender
// this server runs, so a cascading standby has them too), the role
// 'standby' row from pg_stat_wal_receiver. The FULL JOIN ON false is a
// union that keeps each view's own columns; the views share only pid,
// which means the same thing in both (the replication process on this
// server). Every other column is NULL on the rows of the other view.
var pgStatReplication = Probe{
	Name:            "pg_stat_replication",
	Scope:           ScopeServer,
	Description:     "Streaming replication: WAL senders (role primary) and the WAL receiver (role standby).",
	IntervalSeconds: 30,
	RetentionDays:   7,
	Columns:         vcolumns(pgStatReplicationCols),
	// pg_stat_replication joins pg_stat_get_activity(NULL), which builds
	// a row for every backend of the server, to the WAL senders; without
	// a sender that is all wasted, every 30 s. The uncorrelated EXISTS is
	// a one-time filter: the view is not evaluated unless pg_stat_get_wal_senders(),
	// which only reads the WAL sender slots, returns a row. Measured with
	// 250 idle sessions: 5.5 ms of server CPU a run without it, 0.25 with.
	Queries: vqueries(pgStatReplicationCols, Versioned{MinVersion: 140000, SQL: `FROM (SELECT * FROM pg_catalog.pg_stat_replication
  WHERE EXISTS (SELECT FROM pg_catalog.pg_stat_get_wal_senders())) s
FULL JOIN pg_catalog.pg_stat_wal_receiver w ON false`}),
}

var pgStatReplicationCols = []vcol{
	{Name: "role", Type: "text", Expr: "CASE WHEN s.pid IS NOT NULL THEN 'primary' ELSE 'standby' END"},
	{Name: "pid", Type: "integer", Expr: "coalesce(s.pid, w.pid)"},
	{Name: "usesysid", Type: "bigint", Expr: "s.usesysid"},
	{Name: "usename", Type: "text", Expr: "s.usename"},
	{Name: "application_name", Type: "text", Expr: "s.application_name"},
	{Name: "client_addr", Type: "inet", Expr: "s.client_addr"},
	{Name: "client_hostname", Type: "text", Expr: "s.client_hostname"},
	{Name: "client_port", Type: "integer", Expr: "s.client_port"},
	{Name: "backend_start", Type: "timestamptz", Expr: "s.backend_start"},
	{Name: "backend_xmin", Type: "bigint", Expr: "s.backend_xmin::text"},
	{Name: "state", Type: "text", Expr: "s.state"},
	{Name: "sent_lsn", Type: "pg_lsn", Expr: "s.sent_lsn"},
	{Name: "write_lsn", Type: "pg_lsn", Expr: "s.write_lsn"},
	{Name: "flush_lsn", Type: "pg_lsn", Expr: "s.flush_lsn"},
	{Name: "replay_lsn", Type: "pg_lsn", Expr: "s.replay_lsn"},
	{Name: "write_lag", Type: "interval", Expr: "s.write_lag"},
	{Name: "flush_lag", Type: "interval", Expr: "s.flush_lag"},
	{Name: "replay_lag", Type: "interval", Expr: "s.replay_lag"},
	{Name: "sync_priority", Type: "integer", Expr: "s.sync_priority"},
	{Name: "sync_state", Type: "text", Expr: "s.sync_state"},
	{Name: "reply_time", Type: "timestamptz", Expr: "s.reply_time"},
	{Name: "status", Type: "text", Expr: "w.status"},
	{Name: "receive_start_lsn", Type: "pg_lsn", Expr: "w.receive_start_lsn"},
	{Name: "receive_start_tli", Type: "integer", Expr: "w.receive_start_tli"},
	{Name: "written_lsn", Type: "pg_lsn", Expr: "w.written_lsn"},
	{Name: "flushed_lsn", Type: "pg_lsn", Expr: "w.flushed_lsn"},
	{Name: "received_tli", Type: "integer", Expr: "w.received_tli"},
	{Name: "last_msg_send_time", Type: "timestamptz", Expr: "w.last_msg_send_time"},
	{Name: "last_msg_receipt_time", Type: "timestamptz", Expr: "w.last_msg_receipt_time"},
	{Name: "latest_end_lsn", Type: "pg_lsn", Expr: "w.latest_end_lsn"},
	{Name: "latest_end_time", Type: "timestamptz", Expr: "w.latest_end_time"},
	{Name: "slot_name", Type: "text", Expr: "w.slot_name"},
	{Name: "sender_host", Type: "text", Expr: "w.sender_host"},
	{Name: "sender_port", Type: "integer", Expr: "w.sender_port"},
	{Name: "conninfo", Type: "text", Expr: "w.conninfo"},
}
