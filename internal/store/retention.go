package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// RetentionHistory is what the retention ticker schedules from.
type RetentionHistory struct {
	// LastRun is started_at of the latest recorded retention run; zero when
	// none is recorded.
	LastRun time.Time
	// Since is when the datastore was first migrated: retention has been
	// owed since then when no run is recorded at all.
	Since time.Time
}

// ReadRetentionHistory reads the latest retention run and the datastore's
// creation time. It fails while the schema is not migrated yet.
func ReadRetentionHistory(ctx context.Context, q querier) (RetentionHistory, error) {
	var last, since *time.Time
	err := q.QueryRow(ctx, `
SELECT (SELECT max(started_at) FROM public.retention_runs),
       (SELECT min(applied_at) FROM public.schema_version)`).Scan(&last, &since)
	if err != nil {
		return RetentionHistory{}, fmt.Errorf("read retention history: %w", err)
	}
	var h RetentionHistory
	if last != nil {
		h.LastRun = last.UTC()
	}
	if since != nil {
		h.Since = since.UTC()
	}
	return h, nil
}

// RetentionRun is one row of public.retention_runs.
type RetentionRun struct {
	StartedAt  time.Time
	FinishedAt time.Time
	Dropped    []string // qualified names of the partitions dropped
	Error      string   // empty when everything succeeded
}

// RecordRetentionRun inserts run into public.retention_runs.
func RecordRetentionRun(ctx context.Context, pool *pgxpool.Pool, run RetentionRun) error {
	dropped := run.Dropped
	if dropped == nil {
		dropped = []string{}
	}
	_, err := pool.Exec(ctx, `
INSERT INTO public.retention_runs (started_at, finished_at, partitions_dropped, dropped, error)
VALUES ($1, $2, $3, $4, nullif($5, ''))`, run.StartedAt, run.FinishedAt, len(dropped), dropped, run.Error)
	if err != nil {
		return fmt.Errorf("record retention run: %w", err)
	}
	return nil
}

// MetricsPartitions returns every partitioned table of the metrics schema,
// keyed by name, with the names of its partitions that live in the same
// schema. A table without partitions has an empty, non-nil slice, so the
// map also says which probes have a table at all.
func MetricsPartitions(ctx context.Context, pool *pgxpool.Pool) (map[string][]string, error) {
	rows, err := pool.Query(ctx, `
SELECT p.relname, c.relname
FROM pg_class p
JOIN pg_namespace n ON n.oid = p.relnamespace
LEFT JOIN pg_inherits i ON i.inhparent = p.oid
LEFT JOIN pg_class c ON c.oid = i.inhrelid AND c.relnamespace = p.relnamespace
WHERE n.nspname = $1 AND p.relkind = 'p'
ORDER BY 1, 2`, Schema)
	if err != nil {
		return nil, fmt.Errorf("list partitions of %s: %w", Schema, err)
	}
	out := map[string][]string{}
	var parent string
	var child *string
	_, err = pgx.ForEachRow(rows, []any{&parent, &child}, func() error {
		if out[parent] == nil {
			out[parent] = []string{}
		}
		if child != nil {
			out[parent] = append(out[parent], *child)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list partitions of %s: %w", Schema, err)
	}
	return out, nil
}

// DropPartition drops the table metrics.<name> in a transaction of its own
// and reports whether it existed. It takes the partition's advisory lock,
// as EnsurePartition does, so a sink re-creating the same week for late
// rows waits rather than racing. Dropping a partition locks its parent
// ACCESS EXCLUSIVE; lockTimeout bounds how long that request may queue, so
// a long dashboard query makes the drop fail (to be retried on the next
// run) instead of stalling every sink queued behind it.
func DropPartition(ctx context.Context, pool *pgxpool.Pool, name string, lockTimeout time.Duration) (bool, error) {
	qualified := pgx.Identifier{Schema, name}.Sanitize()
	dropped := false
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		ms := strconv.FormatInt(max(lockTimeout.Milliseconds(), 1), 10) + "ms"
		if _, err := tx.Exec(ctx, `SELECT set_config('lock_timeout', $1, true)`, ms); err != nil {
			return fmt.Errorf("set lock_timeout: %w", err)
		}
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, Schema+"."+name); err != nil {
			return fmt.Errorf("take lock: %w", err)
		}
		exists, err := relationExists(ctx, tx, qualified)
		if err != nil || !exists {
			return err // dropped meanwhile by another retention run
		}
		if _, err := tx.Exec(ctx, "DROP TABLE "+qualified); err != nil {
			return err
		}
		dropped = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("drop partition %s: %w", qualified, err)
	}
	return dropped, nil
}
