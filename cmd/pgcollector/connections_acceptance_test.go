package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/internal/e2e"
	"github.com/pgcollector/pgcollector/internal/pgtest"
)

// TestAcceptanceConnections is the acceptance flow of issue 5, through the
// built binary: a TLS-only monitored cluster with 20 extra databases and a
// cap of 3 sessions; one good connection (verify-full, right CA) and three
// broken ones (wrong CA, wrong password, dead port). The good one collects
// every database while the role never holds more than 3 sessions; the
// broken ones carry connection_error; no password is printed or stored in
// the data directory; owner-scoped listing and bad settings behave.
func TestAcceptanceConnections(t *testing.T) {
	ctx := context.Background()
	const password = "canary-Good-4b7e1d"
	const wrongPassword = "canary-Wrong-93c0aa"
	const tokenA, tokenB = "tok-A-5f1c", "tok-B-77d2"
	const role = "pgc_monitor"

	store := pgtest.Start(t, pgtest.Options{})
	mon := pgtest.Start(t, pgtest.Options{TLS: true, HBA: []string{
		"hostnossl all " + role + " 127.0.0.1/32 reject",
	}})
	store.Exec(t, "postgres", "CREATE DATABASE pgcollector")
	var extra []string
	for i := 1; i <= 20; i++ {
		extra = append(extra, fmt.Sprintf("app%02d", i))
	}
	require.NoError(t, e2e.MonitorRole(ctx, mon, role, password, extra...))

	dir := t.TempDir()
	bin, err := e2e.Build(ctx, dir)
	require.NoError(t, err)
	secretFile, err := e2e.WriteSecret(dir, "acceptance connections secret")
	require.NoError(t, err)
	wrongCA, err := pgtest.NewCA(dir, "wrong-ca")
	require.NoError(t, err)
	dataDir := filepath.Join(dir, "data")
	env := e2e.Env{Bin: bin, Vars: []string{
		"PGC_DATASTORE_URL=" + store.DSN("pgcollector"),
		"PGC_SECRET_FILE=" + secretFile,
		"PGC_DATA_DIR=" + dataDir,
		"PGC_HTTP_ADDR=",
		"PGC_MONITORED_POOL_MAX_CONNS=3",
		"PGC_LOG_LEVEL=debug", // the most output in which a password could leak
	}}
	var outputs []string
	run := func(wantCode int, stdin string, args ...string) (string, string) {
		t.Helper()
		code, out, errOut := env.Run(ctx, stdin, args...)
		outputs = append(outputs, out, errOut)
		require.Equal(t, wantCode, code, "pgcollector %v: %s%s", args, out, errOut)
		return out, errOut
	}
	run(0, "", "migrate")

	add := func(name, pw string, extra ...string) string {
		args := append([]string{"connection", "add", "--name", name, "--host", mon.Host, "--database", "postgres",
			"--username", role, "--password-stdin"}, extra...)
		out, _ := run(0, pw+"\n", args...)
		id := strings.TrimSpace(out)
		require.Regexp(t, `^\d+$`, id)
		return id
	}
	port := fmt.Sprint(mon.Port)
	good := add("good", password, "--port", port, "--sslmode", "verify-full", "--sslrootcert", mon.CAFile(),
		"--owner-token", tokenA)
	badCA := add("wrong-ca", password, "--port", port, "--sslmode", "verify-full", "--sslrootcert", wrongCA.CertFile,
		"--owner-token", tokenA)
	badPW := add("wrong-password", wrongPassword, "--port", port, "--sslmode", "verify-full",
		"--sslrootcert", mon.CAFile(), "--owner-username", "bob")
	dead := add("dead-port", password, "--port", fmt.Sprint(deadPort(t)), "--sslmode", "require",
		"--owner-token", tokenB)
	store.Exec(t, "pgcollector", `UPDATE probes SET is_enabled = name IN ('pg_stat_database', 'pg_stat_user_tables', 'pg_connectivity'),
		collection_interval_seconds = 5`)

	// Sample the role's sessions as the superuser every 100 ms for as long
	// as the collector runs.
	admin, err := pgx.Connect(ctx, mon.DSN("postgres"))
	require.NoError(t, err)
	defer admin.Close(ctx)
	var mu sync.Mutex
	peak, samples, nonTLS := 0, 0, 0
	stop, sampled := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			var n, plain int
			err := admin.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE NOT coalesce(s.ssl, false))
				FROM pg_stat_activity a LEFT JOIN pg_stat_ssl s USING (pid) WHERE a.usename = $1`, role).Scan(&n, &plain)
			if err != nil {
				continue
			}
			mu.Lock()
			peak, samples, nonTLS = max(peak, n), samples+1, nonTLS+plain
			mu.Unlock()
		}
	}()

	proc, err := env.Start(nil, "run")
	require.NoError(t, err)
	db, err := pgx.Connect(ctx, store.DSN("pgcollector"))
	require.NoError(t, err)
	defer db.Close(ctx)
	connError := func(id string) (msg string, set bool) {
		var e *string
		require.NoError(t, db.QueryRow(ctx, `SELECT connection_error FROM connections WHERE id = $1`, id).Scan(&e))
		if e == nil {
			return "", false
		}
		return *e, true
	}
	var databases int
	done := func() bool {
		require.NoError(t, db.QueryRow(ctx, `SELECT count(DISTINCT database_name) FROM metrics.pg_stat_database
			WHERE connection_id = $1`, good).Scan(&databases))
		for _, id := range []string{badCA, badPW, dead} {
			if _, set := connError(id); !set {
				return false
			}
		}
		return databases == 21
	}
	deadline := time.Now().Add(2 * time.Minute)
	for !done() && time.Now().Before(deadline) {
		time.Sleep(time.Second)
	}
	time.Sleep(6 * time.Second) // one more round at the cap
	code, _ := proc.Stop(syscall.SIGTERM, 20*time.Second)
	close(stop)
	<-sampled
	logs := proc.Output()
	outputs = append(outputs, logs)
	require.Equal(t, 0, code, "exit code after SIGTERM; output:\n%s", logs)

	require.Equal(t, 21, databases, "databases collected by the good connection")
	mu.Lock()
	t.Logf("role sessions: peak %d over %d samples", peak, samples)
	require.Greater(t, samples, 50)
	require.Positive(t, peak)
	require.LessOrEqual(t, peak, 3, "sessions of the role at any sampled moment")
	require.Zero(t, nonTLS, "sessions without TLS")
	mu.Unlock()

	_, set := connError(good)
	require.False(t, set, "the good connection has no connection_error")
	for id, want := range map[string]string{badCA: "certificate", badPW: "password authentication failed",
		dead: "connect"} {
		msg, set := connError(id)
		t.Logf("connection_error of %s: %s", id, msg)
		require.True(t, set, "connection %s", id)
		require.Contains(t, msg, want, "connection %s", id)
	}
	// Logged with the connection's name, once: the state did not change.
	for _, name := range []string{"wrong-ca", "wrong-password", "dead-port"} {
		re := regexp.MustCompile(`(?m)^.*monitored server unreachable.*connection=` + name + `( |$).*$`)
		require.Len(t, re.FindAllString(logs, -1), 1, "unreachable log lines of %s", name)
	}

	// Owner-scoped listing.
	out, _ := run(0, "", "connection", "list", "--owner-token", tokenA, "--json")
	var views []struct{ Name string }
	require.NoError(t, json.Unmarshal([]byte(out), &views))
	require.ElementsMatch(t, []struct{ Name string }{{"good"}, {"wrong-ca"}}, views)
	out, _ = run(0, "", "connection", "list", "--owner-token", tokenB)
	require.Contains(t, out, "dead-port")
	require.NotContains(t, out, "good")
	run(0, "", "connection", "list")
	run(0, "", "connection", "show", "good", "--json")

	// Bad settings exit 2 with one line naming the setting.
	for setting, vars := range map[string][]string{
		"PGC_SECRET_FILE":   {"PGC_SECRET_FILE=" + filepath.Join(dir, "no-such-secret")},
		"PGC_DATASTORE_URL": {"PGC_DATASTORE_URL=postgres://u:" + password + "@[bad/pgcollector"},
	} {
		bad := e2e.Env{Bin: bin, Vars: append(append([]string{}, env.Vars...), vars...)}
		code, out, errOut := bad.Run(ctx, "", "run")
		outputs = append(outputs, out, errOut)
		require.Equal(t, 2, code, "%s: %s%s", setting, out, errOut)
		require.Contains(t, errOut, setting)
		require.Equal(t, 1, strings.Count(strings.TrimSpace(errOut), "\n")+1, "one line: %q", errOut)
	}

	for _, o := range outputs {
		for _, secret := range []string{password, wrongPassword, tokenA, tokenB} {
			require.NotContains(t, o, secret, "a password or owner token in the output")
		}
	}
	requireNotInDir(t, dataDir, password)
	requireNotInDir(t, dataDir, wrongPassword)
}

// deadPort returns a loopback port with nothing listening on it.
func deadPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	return p
}
