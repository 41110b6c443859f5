package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/internal/pgtest"
)

// Collector is the rig of the end-to-end tests: a datastore cluster with a
// migrated database, the built binary configured for it, and a pool on
// the datastore for the test's own queries.
type Collector struct {
	Store *pgtest.Cluster
	Env   Env
	DB    *pgxpool.Pool
	proc  *Process
}

// NewCollector starts a datastore, builds pgcollector and runs migrate.
// vars are extra KEY=VALUE settings for every command, e.g.
// "PGC_CATALOG_REFRESH=1s". Everything is torn down when the test ends.
func NewCollector(t testing.TB, vars ...string) *Collector {
	t.Helper()
	ctx := context.Background()
	store := pgtest.Start(t, pgtest.Options{})
	store.Exec(t, "postgres", "CREATE DATABASE pgcollector")
	dir := t.TempDir()
	bin, err := Build(ctx, dir)
	require.NoError(t, err)
	secretFile, err := WriteSecret(dir, "e2e secret")
	require.NoError(t, err)
	c := &Collector{Store: store, Env: Env{Bin: bin, Vars: append([]string{
		"PGC_DATASTORE_URL=" + store.DSN("pgcollector"),
		"PGC_SECRET_FILE=" + secretFile,
		"PGC_DATA_DIR=" + filepath.Join(dir, "data"),
		"PGC_HTTP_ADDR=",
	}, vars...)}}
	c.MustRun(t, "", "migrate")
	c.DB, err = pgxpool.New(ctx, store.DSN("pgcollector"))
	require.NoError(t, err)
	t.Cleanup(c.DB.Close)
	return c
}

// MustRun runs one pgcollector command and requires exit code 0; it
// returns the standard output.
func (c *Collector) MustRun(t testing.TB, stdin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code, out, errOut := c.Env.Run(ctx, stdin, args...)
	require.Equal(t, 0, code, "pgcollector %v:\n%s%s", args, out, errOut)
	return out
}

// AddConnection registers the monitored cluster under name with
// `connection add`, as role with password, maintenance database postgres,
// owned by the user e2e.
func (c *Collector) AddConnection(t testing.TB, name string, mon *pgtest.Cluster, role, password string) int64 {
	t.Helper()
	out := c.MustRun(t, password+"\n", "connection", "add", "--name", name, "--host", mon.Host,
		"--port", strconv.Itoa(mon.Port), "--database", "postgres", "--username", role,
		"--sslmode", "disable", "--owner-username", "e2e", "--password-stdin")
	id, err := strconv.ParseInt(strings.TrimSpace(out), 10, 64)
	require.NoError(t, err, "connection add printed %q", out)
	return id
}

// OnlyProbes enables exactly the named probes, at interval seconds, and
// disables every other one, so a test collects only what it looks at.
func (c *Collector) OnlyProbes(t testing.TB, interval int, names ...string) {
	t.Helper()
	c.Exec(t, `UPDATE public.probes SET is_enabled = name = ANY($1),
		collection_interval_seconds = CASE WHEN name = ANY($1) THEN $2 ELSE collection_interval_seconds END`,
		names, interval)
}

// Start runs `pgcollector run` in the background. When the test ends it
// is stopped with SIGTERM and must exit 0 within 20 s; its output is
// logged if the test failed.
func (c *Collector) Start(t testing.TB) *Process {
	t.Helper()
	p, err := c.Env.Start(nil, "run")
	require.NoError(t, err)
	c.proc = p
	t.Cleanup(func() {
		code, took := p.Stop(syscall.SIGTERM, 20*time.Second)
		if t.Failed() {
			t.Logf("pgcollector output:\n%s", p.Output())
		}
		if code != 0 {
			t.Errorf("pgcollector run exited %d after SIGTERM (%s)", code, took)
		}
	})
	return p
}

// Exec runs one statement on the datastore and fails the test on error.
func (c *Collector) Exec(t testing.TB, sql string, args ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := c.DB.Exec(ctx, sql, args...)
	require.NoError(t, err, sql)
}

// Rows runs a query on the datastore and collects every row as T: a
// scalar for a one-column query, else a struct whose fields match the
// columns by position.
func Rows[T any](t testing.TB, c *Collector, sql string, args ...any) []T {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rows, err := c.DB.Query(ctx, sql, args...)
	require.NoError(t, err, sql)
	out, err := pgx.CollectRows(rows, rowTo[T])
	require.NoError(t, err, sql)
	return out
}

// rowTo scans scalars directly and structs by position.
func rowTo[T any](row pgx.CollectableRow) (T, error) {
	if len(row.FieldDescriptions()) == 1 {
		return pgx.RowTo[T](row)
	}
	return pgx.RowToStructByPos[T](row)
}

// Value runs a query on the datastore that returns one value.
func Value[T any](t testing.TB, c *Collector, sql string, args ...any) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var v T
	require.NoError(t, c.DB.QueryRow(ctx, sql, args...).Scan(&v), sql)
	return v
}

// execAll runs statements as the superuser in database, in order.
func execAll(ctx context.Context, c *pgtest.Cluster, database string, sql ...string) error {
	conn, err := pgx.Connect(ctx, c.DSN(database))
	if err != nil {
		return fmt.Errorf("connect to %s on port %d: %w", database, c.Port, err)
	}
	defer conn.Close(ctx)
	for _, s := range sql {
		if _, err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}
