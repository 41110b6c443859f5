package store

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/pgcollector/pgcollector/internal/pgtest"
	"github.com/pgcollector/pgcollector/probes"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testCatalogue is a small hand-made catalogue: one probe per scope.
func testCatalogue() []probes.Probe {
	return []probes.Probe{
		{
			Name: "test_server", Scope: probes.ScopeServer, Description: "a server probe",
			IntervalSeconds: 60, RetentionDays: 7,
			Columns: []probes.Column{{Name: "value", Type: "bigint"}, {Name: "label", Type: "text"}},
		},
		{
			Name: "test_db", Scope: probes.ScopeDatabase, Description: "a database probe",
			IntervalSeconds: 300, RetentionDays: 30, ChangeTracked: true,
			Columns: []probes.Column{{Name: "name", Type: "text"}, {Name: "seen", Type: "timestamptz"}},
		},
	}
}

func newPool(t *testing.T) (*pgtest.Cluster, *pgxpool.Pool) {
	t.Helper()
	c := pgtest.Start(t, pgtest.Options{})
	pool, err := pgxpool.New(context.Background(), c.DSN("postgres"))
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	return c, pool
}

// schemaFingerprint summarises everything Migrate controls, so that two
// runs can be compared.
func schemaFingerprint(t *testing.T, ctx context.Context, pool *pgxpool.Pool) string {
	t.Helper()
	var out string
	err := pool.QueryRow(ctx, `
SELECT string_agg(format('%s.%s.%s:%s:%s', n.nspname, c.relname, a.attname,
                         format_type(a.atttypid, a.atttypmod), a.attnotnull), ',' ORDER BY 1)
       || (SELECT string_agg(version::text || xmin::text, ',' ORDER BY version) FROM public.schema_version)
       || (SELECT string_agg(name || xmin::text, ',' ORDER BY name) FROM public.probes)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname IN ('public', 'metrics')`).Scan(&out)
	require.NoError(t, err)
	return out
}

func TestMigrate(t *testing.T) {
	ctx := context.Background()
	_, pool := newPool(t)
	cat := testCatalogue()

	require.NoError(t, Migrate(ctx, pool, cat))
	first := schemaFingerprint(t, ctx, pool)
	require.NoError(t, Migrate(ctx, pool, cat), "second Migrate")
	require.Equal(t, first, schemaFingerprint(t, ctx, pool), "second Migrate changed something")

	var versions []int
	require.NoError(t, pool.QueryRow(ctx,
		`SELECT array_agg(version ORDER BY version) FROM public.schema_version`).Scan(&versions))
	require.Equal(t, []int{1, 2, 3, 4}, versions)
	require.Equal(t, 4, LatestVersion())

	// Contract: partitioned parents with NOT NULL keys and the index.
	var strategy string
	require.NoError(t, pool.QueryRow(ctx, `
SELECT pt.partstrat FROM pg_partitioned_table pt WHERE pt.partrelid = 'metrics.test_db'::regclass`).Scan(&strategy))
	require.Equal(t, "r", strategy)
	var cols []string
	require.NoError(t, pool.QueryRow(ctx, `
SELECT array_agg(attname || ':' || format_type(atttypid, atttypmod) || ':' || attnotnull ORDER BY attnum)
FROM pg_attribute WHERE attrelid = 'metrics.test_db'::regclass AND attnum > 0`).Scan(&cols))
	require.Equal(t, []string{
		"connection_id:integer:true", "collected_at:timestamp with time zone:true",
		"database_name:text:false", "name:text:false", "seen:timestamp with time zone:false",
	}, cols)
	var indexDef string
	require.NoError(t, pool.QueryRow(ctx,
		`SELECT pg_get_indexdef('metrics.test_server_connection_id_collected_at_idx'::regclass)`).Scan(&indexDef))
	require.Contains(t, indexDef, "(connection_id, collected_at DESC)")

	// Defaults of the contract tables.
	var id, port int
	var dbname, sslmode string
	var monitored bool
	require.NoError(t, pool.QueryRow(ctx, `
INSERT INTO public.connections (name, host) VALUES ('one', 'localhost')
RETURNING id, port, database_name, sslmode, is_monitored`).Scan(&id, &port, &dbname, &sslmode, &monitored))
	require.Equal(t, []any{5432, "postgres", "prefer", true}, []any{port, dbname, sslmode, monitored})
	_, err := pool.Exec(ctx, `UPDATE public.probes SET collection_interval_seconds = 0 WHERE name = 'test_db'`)
	require.ErrorContains(t, err, "check constraint")
}

func TestMigrateKeepsUserSettingsAndGrows(t *testing.T) {
	ctx := context.Background()
	_, pool := newPool(t)
	cat := testCatalogue()
	require.NoError(t, Migrate(ctx, pool, cat))
	_, err := pool.Exec(ctx, `UPDATE public.probes
SET collection_interval_seconds = 17, retention_days = 99, is_enabled = false WHERE name = 'test_server'`)
	require.NoError(t, err)

	// A later release adds a column to a probe and a new probe.
	cat[0].Columns = append(cat[0].Columns, probes.Column{Name: "new col", Type: "double precision"})
	cat = append(cat, probes.Probe{Name: "test_new", Scope: probes.ScopeServer, IntervalSeconds: 30,
		RetentionDays: 7, Columns: []probes.Column{{Name: "x", Type: "integer"}}})
	require.NoError(t, Migrate(ctx, pool, cat))

	var interval, retention int
	var enabled bool
	require.NoError(t, pool.QueryRow(ctx, `SELECT collection_interval_seconds, retention_days, is_enabled
FROM public.probes WHERE name = 'test_server'`).Scan(&interval, &retention, &enabled))
	require.Equal(t, []any{17, 99, false}, []any{interval, retention, enabled})
	require.NoError(t, pool.QueryRow(ctx, `SELECT collection_interval_seconds
FROM public.probes WHERE name = 'test_new'`).Scan(&interval))
	require.Equal(t, 30, interval)
	_, err = pool.Exec(ctx, `SELECT "new col" FROM metrics.test_server; SELECT x FROM metrics.test_new`)
	require.NoError(t, err)

	// A changed type is refused with a message naming the column.
	cat[2].Columns[0].Type = "text"
	err = Migrate(ctx, pool, cat)
	require.ErrorContains(t, err, `column x of "metrics"."test_new" does not have the catalogue's type text`)
}

func TestMigrateConcurrent(t *testing.T) {
	ctx := context.Background()
	_, pool := newPool(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { errs[i] = Migrate(ctx, pool, testCatalogue()) })
	}
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "Migrate #%d", i)
	}
	var n int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM public.schema_version`).Scan(&n))
	require.Equal(t, len(migrations), n)
}

func TestEnsurePartitionRace(t *testing.T) {
	ctx := context.Background()
	_, pool := newPool(t)
	require.NoError(t, Migrate(ctx, pool, testCatalogue()))
	at := time.Date(2026, 12, 31, 12, 0, 0, 0, time.UTC)

	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() { errs[i] = EnsurePartition(ctx, pool, "test_db", at) })
	}
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "EnsurePartition #%d", i)
	}

	var bound string
	var indexes int
	require.NoError(t, pool.QueryRow(ctx, `
SELECT pg_get_expr(c.relpartbound, c.oid),
       (SELECT count(*) FROM pg_index i WHERE i.indrelid = c.oid)
FROM pg_class c WHERE c.oid = 'metrics.test_db_20261228'::regclass`).Scan(&bound, &indexes))
	require.Equal(t, "FOR VALUES FROM ('2026-12-28 00:00:00+00') TO ('2027-01-04 00:00:00+00')", bound)
	require.Equal(t, 1, indexes, "the parent's index is inherited")

	// Rows at both ends of the week land in it; the next week needs its own.
	_, err := pool.Exec(ctx, `INSERT INTO metrics.test_db (connection_id, collected_at)
VALUES (1, '2026-12-28 00:00:00+00'), (1, '2027-01-03 23:59:59.999999+00')`)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `INSERT INTO metrics.test_db (connection_id, collected_at) VALUES (1, '2027-01-04 00:00:00+00')`)
	require.ErrorContains(t, err, "no partition")

	// A partition made by someone else, outside the lock, is accepted.
	_, err = pool.Exec(ctx, `CREATE TABLE metrics.test_db_20270104 PARTITION OF metrics.test_db
FOR VALUES FROM ('2027-01-04 00:00:00+00') TO ('2027-01-11 00:00:00+00')`)
	require.NoError(t, err)
	require.NoError(t, EnsurePartition(ctx, pool, "test_db", at.AddDate(0, 0, 5)))

	require.ErrorContains(t, EnsurePartition(ctx, pool, "no_such_probe", at), `relation "metrics.no_such_probe" does not exist`)
}

func TestPartitionsCache(t *testing.T) {
	ctx := context.Background()
	_, pool := newPool(t)
	require.NoError(t, Migrate(ctx, pool, testCatalogue()))
	cache := NewPartitions(pool)
	at := time.Date(2026, 3, 8, 12, 0, 0, 0, time.UTC)
	require.NoError(t, cache.Ensure(ctx, "test_server", at))

	// Dropped behind the cache's back (retention): the cache still believes
	// in it until Reset.
	_, err := pool.Exec(ctx, `DROP TABLE metrics.test_server_20260302`)
	require.NoError(t, err)
	require.NoError(t, cache.Ensure(ctx, "test_server", at))
	var exists bool
	check := func() bool {
		require.NoError(t, pool.QueryRow(ctx, `SELECT to_regclass('metrics.test_server_20260302') IS NOT NULL`).Scan(&exists))
		return exists
	}
	require.False(t, check())
	cache.Reset()
	require.NoError(t, cache.Ensure(ctx, "test_server", at))
	require.True(t, check())
	for i := range 3 {
		require.NoError(t, cache.Ensure(ctx, "test_server", at.AddDate(0, 0, 7*i)), fmt.Sprint(i))
	}
}

func TestMigrateRealCatalogue(t *testing.T) {
	ctx := context.Background()
	_, pool := newPool(t)
	require.NoError(t, Migrate(ctx, pool, probes.All))
	first := schemaFingerprint(t, ctx, pool)
	require.NoError(t, Migrate(ctx, pool, probes.All))
	require.Equal(t, first, schemaFingerprint(t, ctx, pool))
	require.Equal(t, len(probes.All), countRows(t, pool, `SELECT count(*) FROM public.probes`))
	require.Equal(t, len(probes.All), countRows(t, pool,
		`SELECT count(*) FROM pg_partitioned_table pt JOIN pg_class c ON c.oid = pt.partrelid
		 JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'metrics'`))
	for _, p := range probes.All {
		require.NoError(t, EnsurePartition(ctx, pool, p.Name, time.Now()), p.Name)
	}
}

func countRows(t *testing.T, pool *pgxpool.Pool, sql string) int {
	t.Helper()
	var n int
	require.NoError(t, pool.QueryRow(context.Background(), sql).Scan(&n))
	return n
}
