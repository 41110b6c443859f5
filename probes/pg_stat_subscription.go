package probes

// pgStatSubscription has one row per subscription worker (or one row with
// a NULL pid for a subscription with no worker running), joined to the
// subscription's error and conflict counters; those counters repeat on
// every worker row of the subscription. Both views read the cluster-wide
// pg_subscription, so one database shows every subscription.
var pgStatSubscription = Probe{
	Name:            "pg_stat_subscription",
	Scope:           ScopeServer,
	Description:     "Logical replication subscription workers with their subscription's error and conflict counters.",
	IntervalSeconds: 300,
	RetentionDays:   7,
	Columns:         vcolumns(pgStatSubscriptionCols),
	Queries: vqueries(pgStatSubscriptionCols,
		Versioned{MinVersion: 140000, SQL: "FROM pg_catalog.pg_stat_subscription s"},
		Versioned{MinVersion: 150000, SQL: `FROM pg_catalog.pg_stat_subscription s
LEFT JOIN pg_catalog.pg_stat_subscription_stats t ON t.subid = s.subid`}),
}

var pgStatSubscriptionCols = []vcol{
	{Name: "subid", Type: "bigint", Expr: "s.subid"},
	{Name: "subname", Type: "text", Expr: "s.subname"},
	{Name: "worker_type", Type: "text", Since: 170000},
	{Name: "pid", Type: "integer"},
	{Name: "leader_pid", Type: "integer", Since: 160000},
	{Name: "relid", Type: "bigint"},
	{Name: "received_lsn", Type: "pg_lsn"},
	{Name: "last_msg_send_time", Type: "timestamptz"},
	{Name: "last_msg_receipt_time", Type: "timestamptz"},
	{Name: "latest_end_lsn", Type: "pg_lsn"},
	{Name: "latest_end_time", Type: "timestamptz"},
	{Name: "apply_error_count", Type: "bigint", Since: 150000},
	{Name: "sync_error_count", Type: "bigint", Since: 150000},
	{Name: "confl_insert_exists", Type: "bigint", Since: 180000},
	{Name: "confl_update_origin_differs", Type: "bigint", Since: 180000},
	{Name: "confl_update_exists", Type: "bigint", Since: 180000},
	{Name: "confl_update_missing", Type: "bigint", Since: 180000},
	{Name: "confl_delete_origin_differs", Type: "bigint", Since: 180000},
	{Name: "confl_delete_missing", Type: "bigint", Since: 180000},
	{Name: "confl_multiple_unique_conflicts", Type: "bigint", Since: 180000},
	{Name: "stats_reset", Type: "timestamptz", Since: 150000},
}
