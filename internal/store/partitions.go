package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgcollector/pgcollector/internal/partition"
)

// partitionLockTimeout bounds how long creating a partition may queue for
// its locks. Attaching needs SHARE UPDATE EXCLUSIVE on the parent, which
// only other DDL holds; failing fast leaves the caller to retry instead of
// building a lock queue behind a long-running ALTER.
const partitionLockTimeout = "5s"

// EnsurePartition creates the weekly partition of metrics.<probe> that
// holds t, unless it exists. Any number of callers may race: they serialise
// on an advisory lock keyed by the partition's qualified name and re-check
// the catalog under it, and a table created by someone not taking the lock
// (an operator, say) is accepted too.
//
// The partition is created as a plain table with its parent's columns in
// the order that costs no alignment padding (AlignedTableSQL) and then
// attached: CREATE TABLE ... PARTITION OF would take an ACCESS EXCLUSIVE
// lock on the parent and wait for every dashboard query reading it.
func EnsurePartition(ctx context.Context, pool *pgxpool.Pool, probe string, t time.Time) error {
	name := partition.Name(probe, t)
	qualified := pgx.Identifier{Schema, name}.Sanitize()
	exists, err := relationExists(ctx, pool, qualified)
	if err != nil || exists {
		return err
	}
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, Schema+"."+name); err != nil {
			return fmt.Errorf("take lock: %w", err)
		}
		if exists, err := relationExists(ctx, tx, qualified); err != nil || exists {
			return err
		}
		if _, err := tx.Exec(ctx, "SET LOCAL lock_timeout = '"+partitionLockTimeout+"'"); err != nil {
			return fmt.Errorf("set lock_timeout: %w", err)
		}
		from, to := partition.Week(t)
		parent := Table(probe)
		create, err := AlignedTableSQL(ctx, tx, parent, qualified)
		if err != nil {
			return err
		}
		attach := fmt.Sprintf("ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM ('%s') TO ('%s')",
			parent, qualified, from.Format(time.RFC3339), to.Format(time.RFC3339))
		for _, sql := range []string{create, attach} {
			if _, err := tx.Exec(ctx, sql); err != nil {
				return err
			}
		}
		return nil
	})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P07" {
		return nil // duplicate_table: created meanwhile without the lock
	}
	if err != nil {
		return fmt.Errorf("create partition %s: %w", qualified, err)
	}
	return nil
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func relationExists(ctx context.Context, q querier, qualified string) (bool, error) {
	var exists bool
	if err := q.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, qualified).Scan(&exists); err != nil {
		return false, fmt.Errorf("look up %s: %w", qualified, err)
	}
	return exists, nil
}

// Partitions remembers which weekly partitions are known to exist, so the
// sink's hot path asks the catalog once per probe and week instead of once
// per flush. It is safe for concurrent use. The zero value is not usable:
// call NewPartitions.
type Partitions struct {
	pool *pgxpool.Pool
	mu   sync.Mutex
	seen map[string]struct{}
}

// NewPartitions returns an empty cache creating partitions through pool.
func NewPartitions(pool *pgxpool.Pool) *Partitions {
	return &Partitions{pool: pool, seen: map[string]struct{}{}}
}

// Ensure is EnsurePartition with the cache in front of it.
func (c *Partitions) Ensure(ctx context.Context, probe string, t time.Time) error {
	name := partition.Name(probe, t)
	c.mu.Lock()
	_, ok := c.seen[name]
	c.mu.Unlock()
	if ok {
		return nil
	}
	if err := EnsurePartition(ctx, c.pool, probe, t); err != nil {
		return err
	}
	c.mu.Lock()
	c.seen[name] = struct{}{}
	c.mu.Unlock()
	return nil
}

// Reset forgets every partition. Call it when a write found a partition
// missing that the cache believed in: retention may drop an old week whose
// rows arrive late from the buffer.
func (c *Partitions) Reset() {
	c.mu.Lock()
	c.seen = map[string]struct{}{}
	c.mu.Unlock()
}
