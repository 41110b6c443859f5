package fleetsim_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/bench/fleetsim"
	"github.com/pgcollector/pgcollector/internal/catalog"
	"github.com/pgcollector/pgcollector/internal/e2e"
	"github.com/pgcollector/pgcollector/internal/pgtest"
	"github.com/pgcollector/pgcollector/probes"
	"github.com/pgcollector/pgcollector/stages/fetcher"
)

const (
	role     = "pgc_monitor"
	password = "sim-test-password"
)

// startSim starts a simulator in front of the cluster, stopped when the
// test ends.
func startSim(t *testing.T, c *pgtest.Cluster, recheck time.Duration, faults map[string]fleetsim.Fault) *fleetsim.Sim {
	t.Helper()
	s, err := fleetsim.New(fleetsim.Config{Listen: "127.0.0.1:0", Password: password, RecheckAfter: recheck, Faults: faults,
		Upstreams: []fleetsim.Upstream{{Major: c.Major, Host: c.Host, Port: c.Port, User: role, Password: password}}},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	return s
}

// session opens a session with the collector's startup parameters, to
// the simulator as user or to the cluster itself.
func session(t *testing.T, host string, port int, user, db string) *pgconn.PgConn {
	t.Helper()
	cfg, err := pgconn.ParseConfig(fmt.Sprintf("host=%s port=%d user=%s dbname=%s sslmode=disable", host, port, user, db))
	require.NoError(t, err)
	cfg.Password = password
	for k, v := range map[string]string{"application_name": "pgcollector", "TimeZone": "UTC", "DateStyle": "ISO, MDY",
		"extra_float_digits": "3", "statement_timeout": "10000", "default_transaction_read_only": "on"} {
		cfg.RuntimeParams[k] = v
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := pgconn.ConnectConfig(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

func copyOut(t *testing.T, conn *pgconn.PgConn, sql string) []byte {
	t.Helper()
	var b bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := conn.CopyTo(ctx, &b, sql)
	require.NoError(t, err, sql)
	return b.Bytes()
}

// TestReplay: a statement the fetcher sends is answered by the simulator
// with the cluster's own bytes, the first time (recorded) and after
// (replayed), and the session reports the cluster's parameters; simple
// and extended queries both work.
func TestReplay(t *testing.T) {
	for _, v := range pgtest.Versions() {
		t.Run(strconv.Itoa(v), func(t *testing.T) {
			c := pgtest.Start(t, pgtest.Options{Version: v})
			require.NoError(t, e2e.MonitorRole(context.Background(), c, role, password))
			s := startSim(t, c, time.Hour, nil)
			direct := session(t, c.Host, c.Port, role, "postgres")
			sim := session(t, s.Addr().IP.String(), s.Addr().Port, fleetsim.ServerName(1), "postgres")
			require.Equal(t, direct.ParameterStatus("server_version"), sim.ParameterStatus("server_version"))
			require.Equal(t, fleetsim.ServerName(1), sim.ParameterStatus("session_authorization"))

			p, err := probes.ByName("pg_settings")
			require.NoError(t, err)
			version, err := strconv.Atoi(direct.ParameterStatus("server_version_num"))
			if err != nil {
				version = c.Version
			}
			sql, ok := p.QueryFor(version)
			require.True(t, ok)
			stmt := fetcher.ProbeStatement(p, catalog.ProbeConfig{}, version, sql)
			want := copyOut(t, direct, stmt)
			require.NotEmpty(t, want)
			require.Equal(t, string(want), string(copyOut(t, sim, stmt)), "recorded")
			require.Equal(t, string(want), string(copyOut(t, sim, stmt)), "replayed")
			require.Equal(t, int64(1), s.Stats().Recorded.Load(), "one recording")
			require.Equal(t, int64(1), s.Stats().Replayed.Load(), "one replay")

			// The extended protocol: Parse/Bind/Describe/Execute/Sync.
			ctx := context.Background()
			res := sim.ExecParams(ctx, "SELECT $1::int + 1", [][]byte{[]byte("41")}, nil, nil, nil).Read()
			require.NoError(t, res.Err)
			require.Equal(t, "42", string(res.Rows[0][0]))
			// A cluster's error is recorded and replayed as such.
			_, err = sim.Exec(ctx, "SELECT * FROM no_such_table").ReadAll()
			var pe *pgconn.PgError
			require.ErrorAs(t, err, &pe)
			require.Equal(t, "42P01", pe.Code)
		})
	}
}

// TestCountersAdvance: integer fields that changed between the first and
// the second recording keep growing at that rate; the others stay.
func TestCountersAdvance(t *testing.T) {
	c := pgtest.Start(t, pgtest.Options{})
	ctx := context.Background()
	require.NoError(t, e2e.MonitorRole(ctx, c, role, password))
	require.NoError(t, e2e.Exec(ctx, c, "postgres", "CREATE TABLE t (i int)", "GRANT SELECT ON t TO "+role,
		"INSERT INTO t SELECT generate_series(1, 10)"))
	s := startSim(t, c, time.Second, nil)
	sim := session(t, s.Addr().IP.String(), s.Addr().Port, fleetsim.ServerName(7), "postgres")
	const stmt = "COPY (SELECT 'k', 5, (SELECT count(*) FROM t)) TO STDOUT"
	require.Equal(t, "k\t5\t10\n", string(copyOut(t, sim, stmt)))
	require.Equal(t, "k\t5\t10\n", string(copyOut(t, sim, stmt)), "replayed before the second recording")
	require.NoError(t, e2e.Exec(ctx, c, "postgres", "INSERT INTO t SELECT generate_series(1, 10)"))
	time.Sleep(1100 * time.Millisecond)
	require.Equal(t, "k\t5\t20\n", string(copyOut(t, sim, stmt)), "second recording")
	time.Sleep(1100 * time.Millisecond)
	got := strings.Split(strings.TrimSuffix(string(copyOut(t, sim, stmt)), "\n"), "\t")
	require.Len(t, got, 3)
	require.Equal(t, []string{"k", "5"}, got[:2], "fields that did not change stay")
	n, err := strconv.Atoi(got[2])
	require.NoError(t, err)
	require.Greater(t, n, 20, "the counter advanced")
}
