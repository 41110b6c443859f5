package bench

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/bus"
	"github.com/pgcollector/pgcollector/internal/pgtest"
	"github.com/pgcollector/pgcollector/internal/store"
	"github.com/pgcollector/pgcollector/probes"
)

// TestPartialSlots checks the storage phase's wait on a real datastore,
// with ledger ids made by bus.BatchID: a slot some databases have not
// stored yet is counted until they have, whatever the database's name;
// server-scoped runs and status rows are not slots of a burst, and each
// connection has its own databases.
func TestPartialSlots(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := pgtest.Start(t, pgtest.Options{})
	pool, err := pgxpool.New(ctx, c.DSN("postgres"))
	require.NoError(t, err)
	defer pool.Close()
	require.NoError(t, store.Migrate(ctx, pool, probes.All))

	record := func(id string) {
		t.Helper()
		_, err := pool.Exec(ctx, `INSERT INTO public.ingest_ledger (batch_id, part, collected_at) VALUES ($1, 0, now())`, id)
		require.NoError(t, err)
	}
	count := func() int {
		t.Helper()
		n, err := partialSlots(ctx, pool)
		require.NoError(t, err)
		return n
	}
	dbs := []string{"postgres", "app.1", "app2"}
	for _, db := range dbs {
		record(bus.BatchID(7, "pg_stat_all_tables", 100, db))
		record(bus.BatchID(7, "pg_stat_all_indexes", 100, db))
	}
	record(bus.BatchID(7, "pg_stat_activity", 100, ""))
	record(bus.BatchID(7, "pg_stat_activity", 101, ""))
	record(bus.BatchID(7, "pg_stat_all_tables", 101, "postgres") + "!status")
	require.Equal(t, 0, count(), "whole slots, server runs and status rows")

	record(bus.BatchID(7, "pg_stat_all_tables", 101, "postgres"))
	record(bus.BatchID(7, "pg_stat_all_indexes", 101, "postgres"))
	require.Equal(t, 2, count(), "slot 101 of both probes lacks app.1 and app2")
	record(bus.BatchID(7, "pg_stat_all_tables", 101, "app.1"))
	record(bus.BatchID(7, "pg_stat_all_tables", 101, "app2"))
	require.Equal(t, 1, count(), "pg_stat_all_tables is whole, pg_stat_all_indexes is not")
	record(bus.BatchID(7, "pg_stat_all_indexes", 101, "app.1"))
	record(bus.BatchID(7, "pg_stat_all_indexes", 101, "app2"))
	require.Equal(t, 0, count())

	record(bus.BatchID(8, "pg_stat_all_tables", 101, "postgres"))
	require.Equal(t, 0, count(), "another connection's databases are its own")
}
