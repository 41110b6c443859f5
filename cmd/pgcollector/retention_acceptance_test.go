package main

import (
	"context"
	"fmt"
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

// TestAcceptanceRetention is the acceptance flow of issue 6: after a short
// run, old partitions of pg_stat_activity and of a disabled
// pg_stat_database (7 days) are dropped by the first retention tick, 5 s
// after the next start, while last week's and this week's stay whole.
func TestAcceptanceRetention(t *testing.T) {
	ctx := context.Background()
	store := pgtest.Start(t, pgtest.Options{})
	mon := pgtest.Start(t, pgtest.Options{})
	store.Exec(t, "postgres", "CREATE DATABASE pgcollector")
	require.NoError(t, e2e.MonitorRole(ctx, mon, "pgc_monitor", "retention-pw"))

	dir := t.TempDir()
	bin, err := e2e.Build(ctx, dir)
	require.NoError(t, err)
	secretFile, err := e2e.WriteSecret(dir, "retention secret")
	require.NoError(t, err)
	env := e2e.Env{Bin: bin, Vars: []string{
		"PGC_DATASTORE_URL=" + store.DSN("pgcollector"),
		"PGC_SECRET_FILE=" + secretFile,
		"PGC_DATA_DIR=" + filepath.Join(dir, "data"),
		"PGC_HTTP_ADDR=",
	}}
	code, out, errOut := env.Run(ctx, "retention-pw\n", "migrate")
	require.Equal(t, 0, code, out+errOut)
	code, out, errOut = env.Run(ctx, "retention-pw\n", "connection", "add", "--name", "mon", "--host", mon.Host,
		"--port", fmt.Sprint(mon.Port), "--username", "pgc_monitor", "--sslmode", "disable", "--owner-username", "retention", "--password-stdin")
	require.Equal(t, 0, code, out+errOut)
	store.Exec(t, "pgcollector", `UPDATE probes SET collection_interval_seconds = 2
		WHERE name IN ('pg_stat_activity', 'pg_stat_database')`)

	// A short run with the default 5 min first delay: data, no tick.
	proc, err := env.Start(nil, "run")
	require.NoError(t, err)
	db, err := pgx.Connect(ctx, store.DSN("pgcollector"))
	require.NoError(t, err)
	defer db.Close(ctx)
	require.Eventually(t, func() bool {
		return count(t, db, "SELECT count(*) FROM metrics.pg_stat_database") > 0 &&
			count(t, db, "SELECT count(*) FROM metrics.pg_stat_activity") > 0
	}, 60*time.Second, 500*time.Millisecond)
	exit, _ := proc.Stop(syscall.SIGTERM, 20*time.Second)
	require.Equal(t, 0, exit, proc.Output())

	now := time.Now().UTC()
	store.Exec(t, "pgcollector", `UPDATE probes SET is_enabled = false, retention_days = 7 WHERE name = 'pg_stat_database'`)
	var expired, kept []string
	for _, probe := range []string{"pg_stat_activity", "pg_stat_database"} {
		for _, weeks := range []int{1, 3, 5, 10} {
			at := now.AddDate(0, 0, -7*weeks)
			name := partition.Name(probe, at)
			from, to := partition.Week(at)
			store.Exec(t, "pgcollector", fmt.Sprintf(
				"CREATE TABLE metrics.%s PARTITION OF metrics.%s FOR VALUES FROM ('%s') TO ('%s')",
				name, probe, from.Format(time.RFC3339), to.Format(time.RFC3339)))
			if weeks == 1 {
				kept = append(kept, name)
			} else {
				expired = append(expired, name)
			}
		}
		kept = append(kept, partition.Name(probe, now))
	}
	before := map[string]int{}
	for _, probe := range []string{"pg_stat_activity", "pg_stat_database"} {
		before[probe] = count(t, db, "SELECT count(*) FROM metrics."+partition.Name(probe, now))
		require.Positive(t, before[probe])
	}

	env.Vars = append(env.Vars, "PGC_RETENTION_FIRST_DELAY=5s")
	proc, err = env.Start(nil, "run")
	require.NoError(t, err)
	defer proc.Stop(syscall.SIGTERM, 20*time.Second)
	require.Eventually(t, func() bool {
		for _, name := range expired {
			if exists(t, db, name) {
				return false
			}
		}
		return true
	}, 25*time.Second, 250*time.Millisecond, "expired partitions gone within 25 s")
	for _, name := range kept {
		require.True(t, exists(t, db, name), "partition %s must remain", name)
	}
	for probe, n := range before {
		require.GreaterOrEqual(t, count(t, db, "SELECT count(*) FROM metrics."+partition.Name(probe, now)), n,
			"no row of this week lost from %s", probe)
	}
	var dropped []string
	require.Eventually(t, func() bool {
		return db.QueryRow(ctx, `SELECT coalesce(dropped, '{}') FROM retention_runs
			WHERE finished_at IS NOT NULL ORDER BY id DESC LIMIT 1`).Scan(&dropped) == nil
	}, 10*time.Second, 100*time.Millisecond, "the run is recorded")
	require.ElementsMatch(t, expired, trimSchema(dropped))
}

func count(t *testing.T, db *pgx.Conn, sql string) int {
	t.Helper()
	var n int
	require.NoError(t, db.QueryRow(context.Background(), sql).Scan(&n))
	return n
}

func exists(t *testing.T, db *pgx.Conn, partition string) bool {
	t.Helper()
	var ok bool
	require.NoError(t, db.QueryRow(context.Background(), `SELECT to_regclass('metrics.'||$1) IS NOT NULL`, partition).Scan(&ok))
	return ok
}

func trimSchema(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = strings.TrimPrefix(n, "metrics.")
	}
	return out
}
