package bench

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"

	"github.com/pgcollector/pgcollector/internal/e2e"
	"github.com/pgcollector/pgcollector/internal/pgtest"
)

// Content is what each monitored cluster holds, so that the probes see
// the row counts of a real application server.
type Content struct {
	AppDatabases int // databases besides postgres, each with Tables tables
	Tables       int // tables per application database, two indexes each
	Functions    int // SQL functions per application database, for pg_stat_user_functions
}

// Role and password the collector monitors the fleet as (README's
// monitoring role: pg_monitor and the pg_hba grants).
const (
	MonitorRole     = "pgc_monitor"
	MonitorPassword = "bench-password"
	// PlainRole is the plain loop's role, with the same rights, so that
	// pg_stat_statements keeps its statements apart from the collector's.
	PlainRole = "pgc_plain"
)

// AppDatabase names the i-th application database (from 1).
func AppDatabase(i int) string { return "app" + strconv.Itoa(i) }

// monitoredSettings are the postgresql.conf settings of a fleet cluster:
// pg_stat_statements loaded and room for every simulated server's capped
// pool (each keeps up to PGC_MONITORED_POOL_MAX_CONNS sessions).
func monitoredSettings(maxConnections int) map[string]string {
	return map[string]string{
		"shared_preload_libraries": "pg_stat_statements",
		"track_functions":          "all",
		"track_io_timing":          "on",
		"max_connections":          strconv.Itoa(maxConnections),
		"pg_stat_statements.max":   "5000",
	}
}

// populate creates the monitoring role, the application databases with
// their tables, indexes, sequences and functions, and pg_stat_statements
// in every database, then runs every statement shape of the load once so
// that pg_stat_statements has thousands of entries from the start.
func populate(ctx context.Context, c *pgtest.Cluster, ct Content) error {
	dbs := make([]string, ct.AppDatabases)
	for i := range dbs {
		dbs[i] = AppDatabase(i + 1)
	}
	if err := e2e.MonitorRole(ctx, c, MonitorRole, MonitorPassword, dbs...); err != nil {
		return fmt.Errorf("monitoring role: %w", err)
	}
	if err := e2e.MonitorRole(ctx, c, PlainRole, MonitorPassword); err != nil {
		return fmt.Errorf("plain loop's role: %w", err)
	}
	if err := e2e.Exec(ctx, c, "postgres", "CREATE EXTENSION pg_stat_statements"); err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(2)
	for _, db := range dbs {
		g.Go(func() error { return populateDatabase(gctx, c, db, ct) })
	}
	return g.Wait()
}

func populateDatabase(ctx context.Context, c *pgtest.Cluster, db string, ct Content) error {
	conn, err := pgx.Connect(ctx, c.DSN(db))
	if err != nil {
		return fmt.Errorf("connect to %s: %w", db, err)
	}
	defer conn.Close(ctx)
	stmts := []string{
		"CREATE EXTENSION pg_stat_statements",
		fmt.Sprintf(`DO $$ BEGIN FOR i IN 1..%d LOOP
  EXECUTE format('CREATE TABLE t%%s (id bigserial PRIMARY KEY, k integer NOT NULL, v text, ts timestamptz NOT NULL DEFAULT now())', i);
  EXECUTE format('CREATE INDEX ON t%%s (k)', i);
  EXECUTE format('INSERT INTO t%%s (k, v) SELECT g, md5(g::text) FROM generate_series(1, 40) g', i);
END LOOP; END $$`, ct.Tables),
		fmt.Sprintf(`DO $$ BEGIN FOR i IN 1..%d LOOP
  EXECUTE format('CREATE FUNCTION f%%s(n integer) RETURNS bigint LANGUAGE plpgsql AS ''BEGIN RETURN n * %%s; END''', i, i);
END LOOP; END $$`, ct.Functions),
		"ANALYZE",
	}
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("populate %s: %w", db, err)
		}
	}
	// Every statement shape of the load, once, so that
	// pg_stat_statements starts with thousands of entries.
	b := &pgx.Batch{}
	for i := 1; i <= ct.Tables; i++ {
		for _, shape := range loadShapes {
			b.Queue(fmt.Sprintf(shape, i), 1+i%40)
		}
	}
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("warm pg_stat_statements in %s: %w", db, err)
	}
	return nil
}

// loadShapes are the statements of the load, per table t%d, each with one
// integer parameter. Distinct tables make distinct pg_stat_statements
// entries, as an application's queries do.
var loadShapes = []string{
	"SELECT count(*) FROM t%d WHERE k = $1",
	"SELECT id, v FROM t%d WHERE id = $1",
	"UPDATE t%d SET v = md5(v), ts = now() WHERE id = $1",
	"SELECT * FROM t%d WHERE k > $1 ORDER BY id DESC LIMIT 5",
}
