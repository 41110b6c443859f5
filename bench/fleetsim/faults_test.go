package fleetsim_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/bench/fleetsim"
	"github.com/pgcollector/pgcollector/internal/e2e"
	"github.com/pgcollector/pgcollector/internal/pgtest"
)

// TestFaultsWithCollector runs the real `pgcollector run` against five
// simulated servers: a healthy one and four that play a fault. Each fault
// ends up in the datastore as it does against PostgreSQL (a refused login
// as the connection's connection_error, the others as the probe's
// last_error), and the healthy server keeps being sampled.
func TestFaultsWithCollector(t *testing.T) {
	ctx := context.Background()
	c := pgtest.Start(t, pgtest.Options{})
	require.NoError(t, e2e.MonitorRole(ctx, c, role, password))
	s := startSim(t, c, time.Hour, map[string]fleetsim.Fault{
		"2": {Kind: fleetsim.FaultRefuseLogin},
		"3": {Kind: fleetsim.FaultDropMidCopy},
		"4": {Kind: fleetsim.FaultErrorRelation, Relation: "pg_stat_activity"},
		"5": {Kind: fleetsim.FaultSlow, Delay: time.Minute},
	})
	col := e2e.NewCollector(t, "PGC_CATALOG_REFRESH=1s", "PGC_PROBE_STATEMENT_TIMEOUT=2s", "PGC_MONITORED_MAX_BACKOFF=2s")
	ids := map[int]string{}
	for n := 1; n <= 5; n++ {
		out := col.MustRun(t, password+"\n", "connection", "add", "--name", fleetsim.ServerName(n),
			"--host", s.Addr().IP.String(), "--port", strconv.Itoa(s.Addr().Port), "--database", "postgres",
			"--username", fleetsim.ServerName(n), "--sslmode", "disable", "--owner-username", "e2e", "--password-stdin")
		ids[n] = strings.TrimSpace(out)
	}
	col.OnlyProbes(t, 2, "pg_stat_activity", "pg_stat_database")
	col.Start(t)

	lastError := func(n int, probe string) string {
		return strings.Join(e2e.Rows[string](t, col, `SELECT coalesce(last_error, '') FROM public.probe_state
			WHERE connection_id = $1 AND probe = $2`, ids[n], probe), " ")
	}
	rows := func(n int, probe string) int64 {
		return e2e.Value[int64](t, col, `SELECT count(*) FROM metrics.`+probe+` WHERE connection_id = $1`, ids[n])
	}
	connError := func(n int) string {
		return e2e.Value[string](t, col, `SELECT coalesce(connection_error, '') FROM public.connections WHERE id = $1`, ids[n])
	}
	checks := map[string]func() bool{
		"healthy server sampled":     func() bool { return rows(1, "pg_stat_activity") > 0 && rows(1, "pg_stat_database") > 0 },
		"refused login":              func() bool { return strings.Contains(connError(2), "password authentication failed") },
		"dropped mid-COPY":           func() bool { return lastError(3, "pg_stat_activity") != "" },
		"missing view":               func() bool { return strings.Contains(lastError(4, "pg_stat_activity"), "does not exist") },
		"other views of that server": func() bool { return rows(4, "pg_stat_database") > 0 },
		"slow statement":             func() bool { return strings.Contains(lastError(5, "pg_stat_database"), "statement timeout") },
	}
	deadline := time.Now().Add(90 * time.Second)
	for len(checks) > 0 && time.Now().Before(deadline) {
		for name, ok := range checks {
			if ok() {
				delete(checks, name)
			}
		}
		time.Sleep(time.Second)
	}
	for name := range checks {
		t.Errorf("not seen within 90 s: %s", name)
	}
	for n := 1; n <= 5; n++ {
		t.Logf("server %d: connection_error %q, pg_stat_activity last_error %q, pg_stat_database last_error %q",
			n, connError(n), lastError(n, "pg_stat_activity"), lastError(n, "pg_stat_database"))
	}
	// The healthy server is still sampled after the faults played.
	before := rows(1, "pg_stat_database")
	time.Sleep(5 * time.Second)
	require.Greater(t, rows(1, "pg_stat_database"), before, "the healthy server keeps being sampled")
	require.Positive(t, s.Stats().Faults.Load())
}
