package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/internal/e2e"
	"github.com/pgcollector/pgcollector/internal/partition"
	"github.com/pgcollector/pgcollector/internal/pgtest"
)

// TestAcceptanceBackbone is the acceptance flow of issue 2, run through the
// built binary: datastore and monitored clusters, migrate, connection add
// with --password-stdin, two probes at 5 s, 45 s of collection, SIGTERM.
func TestAcceptanceBackbone(t *testing.T) {
	ctx := context.Background()
	const password = "canary-Pw-7f3a9c"
	store := pgtest.Start(t, pgtest.Options{})
	mon := pgtest.Start(t, pgtest.Options{})
	store.Exec(t, "postgres", "CREATE DATABASE pgcollector")
	require.NoError(t, e2e.MonitorRole(ctx, mon, "pgc_monitor", password, "app1", "app2"))

	dir := t.TempDir()
	bin, err := e2e.Build(ctx, dir)
	require.NoError(t, err)
	secretFile, err := e2e.WriteSecret(dir, "acceptance secret")
	require.NoError(t, err)
	env := e2e.Env{Bin: bin, Vars: []string{
		"PGC_DATASTORE_URL=" + store.DSN("pgcollector"),
		"PGC_SECRET_FILE=" + secretFile,
		"PGC_DATA_DIR=" + filepath.Join(dir, "data"),
		"PGC_HTTP_ADDR=",
	}}
	var outputs []string
	runOK := func(stdin string, args ...string) string {
		code, out, errOut := env.Run(ctx, stdin, args...)
		outputs = append(outputs, out, errOut)
		require.Equal(t, 0, code, "pgcollector %v: %s%s", args, out, errOut)
		return out
	}
	runOK("", "migrate")
	id := strings.TrimSpace(runOK(password+"\n", "connection", "add", "--name", "mon", "--host", mon.Host,
		"--port", fmt.Sprint(mon.Port), "--database", "postgres", "--username", "pgc_monitor",
		"--sslmode", "disable", "--owner-username", "acceptance", "--password-stdin"))
	require.Regexp(t, `^\d+$`, id)
	store.Exec(t, "pgcollector", `UPDATE probes SET collection_interval_seconds = 5
		WHERE name IN ('pg_stat_activity', 'pg_stat_database')`)

	proc, err := env.Start(nil, "run")
	require.NoError(t, err)
	time.Sleep(45 * time.Second)
	code, took := proc.Stop(syscall.SIGTERM, 20*time.Second)
	outputs = append(outputs, proc.Output())
	require.Equal(t, 0, code, "exit code after SIGTERM; output:\n%s", proc.Output())
	require.Less(t, took, 20*time.Second)

	db, err := pgx.Connect(ctx, store.DSN("pgcollector"))
	require.NoError(t, err)
	defer db.Close(ctx)
	var samples int
	require.NoError(t, db.QueryRow(ctx, `SELECT count(DISTINCT collected_at) FROM metrics.pg_stat_activity
		WHERE connection_id = $1`, id).Scan(&samples))
	require.GreaterOrEqual(t, samples, 3, "pg_stat_activity samples in 45 s at 5 s")
	var dbs []string
	rows, err := db.Query(ctx, `SELECT DISTINCT database_name FROM metrics.pg_stat_database WHERE connection_id = $1`, id)
	require.NoError(t, err)
	dbs, err = pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.Subset(t, dbs, []string{"postgres", "app1", "app2"})
	var exists bool
	part := partition.Name("pg_stat_activity", time.Now())
	require.NoError(t, db.QueryRow(ctx, `SELECT to_regclass('metrics.'||$1) IS NOT NULL`, part).Scan(&exists))
	require.True(t, exists, "partition metrics.%s", part)

	for _, o := range outputs {
		require.NotContains(t, o, password, "the password must appear in no output")
	}
	requireNotInDir(t, filepath.Join(dir, "data"), password)
}

// requireNotInDir fails when any file under dir contains s.
func requireNotInDir(t *testing.T, dir, s string) {
	t.Helper()
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.Contains(string(b), s) {
			return fmt.Errorf("%s contains the secret", p)
		}
		return nil
	})
	require.NoError(t, err)
}
