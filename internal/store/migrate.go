package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgcollector/pgcollector/probes"
)

// migrateLockSQL serialises every schema change of every collector process
// against one datastore. A transaction-level lock is released by commit or
// rollback, so a crashed migrator never leaves it held.
const migrateLockSQL = `SELECT pg_advisory_xact_lock(hashtext('pgcollector.migrate'))`

// Migrate brings the datastore schema up to date: it applies the numbered
// migrations not yet recorded in public.schema_version, each in its own
// transaction, and then synchronises the metrics tables and the probes rows
// with catalogue. It is safe to call from several processes at once and is
// a no-op (no DDL, no table locks) on an up-to-date datastore.
//
// Versions recorded in schema_version that this build does not know (a
// newer collector migrated the datastore) are left alone: migrations only
// add, so an older build keeps working during a rolling upgrade.
func Migrate(ctx context.Context, pool *pgxpool.Pool, catalogue []probes.Probe) error {
	if err := bootstrap(ctx, pool); err != nil {
		return err
	}
	for _, m := range migrations {
		if err := apply(ctx, pool, m); err != nil {
			return err
		}
	}
	return syncCatalogue(ctx, pool, catalogue)
}

// LatestVersion is the highest migration version this build knows.
func LatestVersion() int { return migrations[len(migrations)-1].version }

// bootstrap creates public.schema_version, which cannot be a migration of
// its own because it records them.
func bootstrap(ctx context.Context, pool *pgxpool.Pool) error {
	return inLockedTx(ctx, pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `
CREATE TABLE IF NOT EXISTS public.schema_version (
    version     integer PRIMARY KEY,
    description text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
)`)
		if err != nil {
			return fmt.Errorf("create schema_version: %w", err)
		}
		return nil
	})
}

// apply runs one migration unless it is recorded already. The check happens
// under the lock, so of two concurrent callers the second sees the first's
// commit and skips.
func apply(ctx context.Context, pool *pgxpool.Pool, m migration) error {
	return inLockedTx(ctx, pool, func(tx pgx.Tx) error {
		var done bool
		err := tx.QueryRow(ctx,
			`SELECT EXISTS (SELECT 1 FROM public.schema_version WHERE version = $1)`, m.version).Scan(&done)
		if err != nil {
			return fmt.Errorf("read schema_version: %w", err)
		}
		if done {
			return nil
		}
		if _, err := tx.Exec(ctx, m.sql); err != nil {
			return fmt.Errorf("apply migration %d (%s): %w", m.version, m.description, err)
		}
		_, err = tx.Exec(ctx,
			`INSERT INTO public.schema_version (version, description) VALUES ($1, $2)`, m.version, m.description)
		if err != nil {
			return fmt.Errorf("record migration %d: %w", m.version, err)
		}
		return nil
	})
}

// inLockedTx runs fn in a transaction holding the migration lock and
// commits it when fn succeeds.
func inLockedTx(ctx context.Context, pool *pgxpool.Pool, fn func(tx pgx.Tx) error) (err error) {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin migration transaction: %w", err)
	}
	defer func() {
		if err != nil {
			// The rollback error adds nothing to err: the transaction is
			// abandoned either way and the lock goes with it.
			_ = tx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	if _, err := tx.Exec(ctx, migrateLockSQL); err != nil {
		return fmt.Errorf("take migration lock: %w", err)
	}
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit migration transaction: %w", err)
	}
	return nil
}
