package probes

// pgStatRecoveryPrefetch is the one-row view of WAL prefetching during
// recovery, added in PostgreSQL 15.
var pgStatRecoveryPrefetch = Probe{
	Name:            "pg_stat_recovery_prefetch",
	Scope:           ScopeServer,
	Description:     "Blocks prefetched during WAL replay (pg_stat_recovery_prefetch).",
	IntervalSeconds: 600,
	RetentionDays:   7,
	Columns: []Column{
		{"stats_reset", "timestamptz"},
		{"prefetch", "bigint"},
		{"hit", "bigint"},
		{"skip_init", "bigint"},
		{"skip_new", "bigint"},
		{"skip_fpw", "bigint"},
		{"skip_rep", "bigint"},
		{"wal_distance", "integer"},
		{"block_distance", "integer"},
		{"io_depth", "integer"},
	},
	Queries: []Versioned{{MinVersion: 150000, SQL: `SELECT stats_reset::timestamptz AS stats_reset, prefetch::bigint AS prefetch, hit::bigint AS hit,
       skip_init::bigint AS skip_init, skip_new::bigint AS skip_new, skip_fpw::bigint AS skip_fpw,
       skip_rep::bigint AS skip_rep, wal_distance::integer AS wal_distance,
       block_distance::integer AS block_distance, io_depth::integer AS io_depth
FROM pg_catalog.pg_stat_recovery_prefetch`}},
	Check: `SELECT CASE WHEN to_regclass('pg_catalog.pg_stat_recovery_prefetch') IS NULL
            THEN 'view pg_stat_recovery_prefetch does not exist (PostgreSQL 15+)' END`,
}
