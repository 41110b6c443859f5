package probes

// pgStatCheckpointer is one row of checkpointer and background writer
// counters under the PostgreSQL 17+ names. Before 17 both came from
// pg_stat_bgwriter: its checkpoint columns are mapped to their new names
// (checkpoints_timed→num_timed, checkpoints_req→num_requested,
// checkpoint_write_time→write_time, checkpoint_sync_time→sync_time,
// buffers_checkpoint→buffers_written), and its one stats_reset fills both
// reset columns. bgwriter_stats_reset is prefixed because both 17+ views
// have a stats_reset. buffers_backend and buffers_backend_fsync, which 17
// moved to pg_stat_io, are kept and are NULL from 17 on.
var pgStatCheckpointer = Probe{
	Name:            "pg_stat_checkpointer",
	Scope:           ScopeServer,
	Description:     "Checkpointer and background writer counters (pg_stat_checkpointer, pg_stat_bgwriter).",
	IntervalSeconds: 600,
	RetentionDays:   7,
	Snapshot:        true,
	Columns:         vcolumns(pgStatCheckpointerCols),
	Queries: vqueries(pgStatCheckpointerCols,
		Versioned{MinVersion: 140000, SQL: "FROM pg_catalog.pg_stat_bgwriter b"},
		Versioned{MinVersion: 170000, SQL: "FROM pg_catalog.pg_stat_checkpointer c CROSS JOIN pg_catalog.pg_stat_bgwriter b"}),
}

var pgStatCheckpointerCols = []vcol{
	{Name: "num_timed", Type: "bigint", Expr: "b.checkpoints_timed", Until: 170000},
	{Name: "num_timed", Type: "bigint", Expr: "c.num_timed", Since: 170000},
	{Name: "num_requested", Type: "bigint", Expr: "b.checkpoints_req", Until: 170000},
	{Name: "num_requested", Type: "bigint", Expr: "c.num_requested", Since: 170000},
	{Name: "num_done", Type: "bigint", Expr: "c.num_done", Since: 180000},
	{Name: "restartpoints_timed", Type: "bigint", Expr: "c.restartpoints_timed", Since: 170000},
	{Name: "restartpoints_req", Type: "bigint", Expr: "c.restartpoints_req", Since: 170000},
	{Name: "restartpoints_done", Type: "bigint", Expr: "c.restartpoints_done", Since: 170000},
	{Name: "write_time", Type: "double precision", Expr: "b.checkpoint_write_time", Until: 170000},
	{Name: "write_time", Type: "double precision", Expr: "c.write_time", Since: 170000},
	{Name: "sync_time", Type: "double precision", Expr: "b.checkpoint_sync_time", Until: 170000},
	{Name: "sync_time", Type: "double precision", Expr: "c.sync_time", Since: 170000},
	{Name: "buffers_written", Type: "bigint", Expr: "b.buffers_checkpoint", Until: 170000},
	{Name: "buffers_written", Type: "bigint", Expr: "c.buffers_written", Since: 170000},
	{Name: "slru_written", Type: "bigint", Expr: "c.slru_written", Since: 180000},
	{Name: "stats_reset", Type: "timestamptz", Expr: "b.stats_reset", Until: 170000},
	{Name: "stats_reset", Type: "timestamptz", Expr: "c.stats_reset", Since: 170000},
	{Name: "buffers_clean", Type: "bigint", Expr: "b.buffers_clean"},
	{Name: "maxwritten_clean", Type: "bigint", Expr: "b.maxwritten_clean"},
	{Name: "buffers_alloc", Type: "bigint", Expr: "b.buffers_alloc"},
	{Name: "bgwriter_stats_reset", Type: "timestamptz", Expr: "b.stats_reset"},
	{Name: "buffers_backend", Type: "bigint", Expr: "b.buffers_backend", Until: 170000},
	{Name: "buffers_backend_fsync", Type: "bigint", Expr: "b.buffers_backend_fsync", Until: 170000},
}
