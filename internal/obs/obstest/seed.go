// Package obstest fills a migrated datastore with a small, known fleet —
// connections, probe state and metrics samples — for the tests of the
// fleet report, the page's API and the Grafana dashboards' SQL. Every
// timestamp is relative to the time of seeding, so the states it sets up
// (fresh, failing, overdue, unavailable) hold for a few minutes.
package obstest

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgcollector/pgcollector/internal/store"
)

// Fleet says what Seed created.
type Fleet struct {
	Alpha, Beta, Off int64 // connection ids
	// Enabled are the probes left enabled; every other one is disabled.
	Enabled []string
	// Samples is the number of per-minute samples of alpha's metrics.
	Samples int
}

// The expected states of alpha's probes, for tests to compare against.
var AlphaStates = map[string]string{
	"pg_connectivity":     "ok",
	"pg_stat_activity":    "ok",
	"pg_stat_database":    "error", // database app fails
	"pg_stat_wal":         "overdue",
	"pg_stat_replication": "ok",
	"pg_database":         "unavailable",
}

// Seed creates three connections — alpha (healthy server, some probes in
// trouble), beta (down, with a connection error) and off (not monitored)
// — and the samples and state that go with them. pool must be a migrated
// datastore with the full catalogue.
func Seed(ctx context.Context, pool *pgxpool.Pool) (Fleet, error) {
	f := Fleet{Samples: 11}
	for probe := range AlphaStates {
		f.Enabled = append(f.Enabled, probe)
	}
	err := pool.QueryRow(ctx, `WITH c AS (
		INSERT INTO public.connections (name, host, port, database_name, username, is_monitored, connection_error, created_at)
		VALUES ('alpha', 'db-alpha.internal', 5432, 'postgres', 'pgc_monitor', true, NULL, now() - interval '1 day'),
		       ('beta', 'db-beta.internal', 5433, 'postgres', 'pgc_monitor', true, 'dial tcp 10.0.0.2:5433: connect: connection refused', now() - interval '1 day'),
		       ('off', 'db-off.internal', 5432, 'postgres', 'pgc_monitor', false, NULL, now() - interval '1 day')
		RETURNING id, name)
		SELECT (SELECT id FROM c WHERE name = 'alpha'), (SELECT id FROM c WHERE name = 'beta'), (SELECT id FROM c WHERE name = 'off')`).
		Scan(&f.Alpha, &f.Beta, &f.Off)
	if err != nil {
		return f, fmt.Errorf("seed connections: %w", err)
	}
	if _, err := pool.Exec(ctx, `UPDATE public.probes SET is_enabled = name = ANY($1),
		collection_interval_seconds = CASE WHEN name = 'pg_connectivity' THEN 30 WHEN name = ANY($1) THEN 60
		ELSE collection_interval_seconds END`, f.Enabled); err != nil {
		return f, fmt.Errorf("seed probes: %w", err)
	}
	now := time.Now()
	for _, probe := range []string{"pg_connectivity", "pg_stat_activity", "pg_stat_database", "pg_stat_wal",
		"pg_stat_replication", "pg_database"} {
		for _, t := range []time.Time{now.Add(-25 * time.Minute), now, now.Add(24 * time.Hour)} {
			if err := store.EnsurePartition(ctx, pool, probe, t); err != nil {
				return f, fmt.Errorf("seed partitions: %w", err)
			}
		}
	}
	for _, s := range seedSQL {
		// The values are the ids just read back: formatting them in is
		// safe, and spares typing every parameter.
		sql := fmt.Sprintf(s, f.Alpha, f.Beta, f.Samples)
		if _, err := pool.Exec(ctx, sql); err != nil {
			return f, fmt.Errorf("seed: %w\n%s", err, sql)
		}
	}
	return f, nil
}

// seedSQL is formatted with alpha's id, beta's id and the sample count.
// Alpha's samples are one a minute, the last one 20 s ago; its counters
// grow so that the charts read 20 transactions per second (two
// databases), a 99 % cache hit ratio and 1 MiB/s of WAL.
var seedSQL = []string{`
INSERT INTO metrics.pg_connectivity (connection_id, collected_at, up, response_time_ms, error)
SELECT %[1]d, now() - make_interval(secs => 5 + 30 * g), true, 1.5 + mod(g, 3), NULL FROM generate_series(0, 2 * %[3]d) g
UNION ALL
SELECT %[2]d, now() - make_interval(secs => 5 + 30 * g), g > 1, CASE WHEN g > 1 THEN 2.0 END,
       CASE WHEN g <= 1 THEN 'dial tcp 10.0.0.2:5433: connect: connection refused' END
FROM generate_series(0, 2 * %[3]d) g`, `
INSERT INTO metrics.pg_stat_activity (connection_id, collected_at, pid, state, backend_type, datname, usename)
SELECT %[1]d, now() - make_interval(secs => 20 + 60 * g), 1000 + b,
       CASE WHEN b < 3 + mod(g, 2) THEN 'active' END,
       CASE WHEN b < 3 + mod(g, 2) THEN 'client backend' ELSE 'checkpointer' END, 'postgres', 'app'
FROM generate_series(0, %[3]d - 1) g, generate_series(0, 5) b`, `
INSERT INTO metrics.pg_stat_database (connection_id, collected_at, database_name, numbackends,
       xact_commit, xact_rollback, blks_read, blks_hit, tup_returned, tup_fetched, deadlocks, temp_bytes)
SELECT %[1]d, now() - make_interval(secs => 20 + 60 * g) + make_interval(secs => d * 0.05), db, 3,
       100000 + 594 * (%[3]d - g), 6 * (%[3]d - g), 5000 + 10 * (%[3]d - g), 500000 + 990 * (%[3]d - g),
       1000 * (%[3]d - g), 500 * (%[3]d - g), 0, 0
FROM generate_series(0, %[3]d - 1) g, unnest(ARRAY['postgres', 'app']) WITH ORDINALITY AS x(db, d)`, `
INSERT INTO metrics.pg_stat_wal (connection_id, collected_at, wal_records, wal_fpi, wal_bytes, wal_buffers_full,
       archived_count, failed_count)
SELECT %[1]d, now() - make_interval(secs => 600 + 60 * g), 1000 * (%[3]d - g), 10 * (%[3]d - g),
       (62914560::numeric * (%[3]d - g)), 0, %[3]d - g, 0
FROM generate_series(0, %[3]d - 1) g`, `
INSERT INTO metrics.pg_stat_replication (connection_id, collected_at, role, pid, application_name, state,
       sent_lsn, replay_lsn, replay_lag)
SELECT %[1]d, now() - make_interval(secs => 20 + 60 * g), 'primary', 2000, 'standby1', 'streaming',
       '0/3000000'::pg_lsn, '0/2F00000'::pg_lsn, make_interval(secs => 1 + mod(g, 3))
FROM generate_series(0, %[3]d - 1) g`, `
INSERT INTO metrics.pg_database (connection_id, collected_at, datname, datfrozenxid_age, size_bytes)
SELECT %[1]d, now() - make_interval(secs => 20 + 60 * g), db, 1000 + g, 8000000 * d
FROM generate_series(0, %[3]d - 1) g, unnest(ARRAY['postgres', 'app']) WITH ORDINALITY AS x(db, d)`, `
INSERT INTO public.probe_state (connection_id, database_name, probe, last_success, last_error, last_error_at)
VALUES (%[1]d, '', 'pg_connectivity', now() - interval '5 seconds', NULL, NULL),
       (%[1]d, '', 'pg_stat_activity', now() - interval '20 seconds', NULL, NULL),
       (%[1]d, 'postgres', 'pg_stat_database', now() - interval '20 seconds', NULL, NULL),
       (%[1]d, 'app', 'pg_stat_database', now() - interval '80 seconds', 'permission denied for table secret', now() - interval '20 seconds'),
       (%[1]d, '', 'pg_stat_wal', now() - interval '10 minutes', NULL, NULL),
       (%[1]d, '', 'pg_stat_replication', now() - interval '20 seconds', NULL, NULL),
       (%[2]d, '', 'pg_connectivity', now() - interval '5 seconds', NULL, NULL),
       (%[2]d, '', 'pg_stat_activity', NULL, 'dial tcp 10.0.0.2:5433: connect: connection refused', now() - interval '10 seconds')
       ON CONFLICT DO NOTHING`, `
INSERT INTO public.probe_availability (connection_id, database_name, probe, available, reason, last_checked)
SELECT %[1]d, '', 'pg_database', false, 'seeded: not available here', now() - interval '1 minute'`,
}
