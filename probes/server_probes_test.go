package probes_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/internal/pgtest"
	"github.com/pgcollector/pgcollector/probes"
)

// TestServerProbesBehaviour checks what the server-scoped probes report,
// not only that they run: each subtest depends on the state the previous
// ones left, so they run in order on one cluster per version.
func TestServerProbesBehaviour(t *testing.T) {
	for _, major := range pgtest.Versions() {
		t.Run(fmt.Sprintf("pg%d", major), func(t *testing.T) {
			t.Parallel()
			c := pgtest.Start(t, pgtest.Options{Version: major})
			c.Exec(t, "postgres",
				"CREATE ROLE "+monitorRole+" LOGIN PASSWORD '"+monitorPassword+"' IN ROLE pg_monitor")
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			monitor := connect(ctx, t, c.DSNFor(monitorRole, monitorPassword, "postgres"))
			other := connect(ctx, t, c.DSN("postgres"))

			t.Run("pg_stat_activity excludes the collector's own backend", func(t *testing.T) {
				pids := map[int32]bool{}
				for _, r := range probeRows(ctx, t, monitor, c.Version, "pg_stat_activity") {
					pids[r["pid"].(int32)] = true
				}
				require.False(t, pids[int32(monitor.PgConn().PID())], "own backend listed")
				require.True(t, pids[int32(other.PgConn().PID())], "another session missing")
			})

			t.Run("pg_stat_checkpointer returns one row", func(t *testing.T) {
				c.Exec(t, "postgres", "CHECKPOINT")
				rows := probeRows(ctx, t, monitor, c.Version, "pg_stat_checkpointer")
				require.Len(t, rows, 1)
				require.NotNil(t, rows[0]["num_requested"])
				require.NotNil(t, rows[0]["buffers_alloc"])
			})

			t.Run("pg_node_role says standalone", func(t *testing.T) {
				rows := probeRows(ctx, t, monitor, c.Version, "pg_node_role")
				require.Len(t, rows, 1)
				require.Equal(t, "standalone", rows[0]["role"])
				require.Equal(t, false, rows[0]["pg_is_in_recovery"])
				require.EqualValues(t, 1, rows[0]["timeline_id"])
			})

			t.Run("pg_hba_file_rules explains the missing grant", func(t *testing.T) {
				p, err := probes.ByName("pg_hba_file_rules")
				require.NoError(t, err)
				require.Contains(t, checkReason(ctx, t, monitor, p), "GRANT SELECT ON pg_catalog.pg_hba_file_rules")
				require.Empty(t, checkReason(ctx, t, other, p), "a superuser can read it")
			})

			t.Run("a physical slot and its WAL sender are reported", func(t *testing.T) {
				c.Exec(t, "postgres", "SELECT pg_create_physical_replication_slot('probe_standby', true)")
				slots := probeRows(ctx, t, monitor, c.Version, "pg_replication_slots")
				require.Len(t, slots, 1)
				require.Equal(t, "probe_standby", slots[0]["slot_name"])
				require.Equal(t, "physical", slots[0]["slot_type"])
				require.Equal(t, false, slots[0]["active"])
				require.NotNil(t, slots[0]["restart_lsn"], "immediately_reserve sets restart_lsn")
				require.NotNil(t, slots[0]["retained_wal_bytes"])

				sender := streamWAL(ctx, t, c.DSN("postgres"), "probe_standby")
				var rows []map[string]any
				require.Eventually(t, func() bool {
					rows = probeRows(ctx, t, monitor, c.Version, "pg_stat_replication")
					return len(rows) == 1 && rows[0]["state"] == "streaming"
				}, 30*time.Second, 100*time.Millisecond, "WAL sender never streamed: %v", rows)
				require.Equal(t, "primary", rows[0]["role"])
				require.EqualValues(t, sender, rows[0]["pid"])
				require.Equal(t, "probe_test_standby", rows[0]["application_name"])
				require.NotNil(t, rows[0]["sent_lsn"])
				require.Nil(t, rows[0]["status"], "WAL receiver columns are NULL on WAL sender rows")

				slots = probeRows(ctx, t, monitor, c.Version, "pg_replication_slots")
				require.Len(t, slots, 1)
				require.Equal(t, true, slots[0]["active"])
				require.EqualValues(t, sender, slots[0]["active_pid"])

				role := probeRows(ctx, t, monitor, c.Version, "pg_node_role")
				require.Equal(t, "primary", role[0]["role"])
				require.EqualValues(t, 1, role[0]["standby_count"])
			})
		})
	}
}

// TestServerProbesOnStandby checks both ends of streaming replication and
// that every server-scoped probe runs in recovery, where some functions
// (pg_current_wal_lsn) fail.
func TestServerProbesOnStandby(t *testing.T) {
	for _, major := range pgtest.Versions() {
		t.Run(fmt.Sprintf("pg%d", major), func(t *testing.T) {
			t.Parallel()
			primary := pgtest.Start(t, pgtest.Options{Version: major})
			standby := pgtest.Start(t, pgtest.Options{Version: major})
			setup := []string{
				"CREATE ROLE " + monitorRole + " LOGIN PASSWORD '" + monitorPassword + "' IN ROLE pg_monitor",
				"GRANT SELECT ON pg_catalog.pg_hba_file_rules TO " + monitorRole,
				"GRANT EXECUTE ON FUNCTION pg_catalog.pg_hba_file_rules() TO " + monitorRole,
				"SELECT pg_create_physical_replication_slot('standby1', true)",
			}
			if major >= 15 {
				setup = append(setup,
					"GRANT SELECT ON pg_catalog.pg_ident_file_mappings TO "+monitorRole,
					"GRANT EXECUTE ON FUNCTION pg_catalog.pg_ident_file_mappings() TO "+monitorRole)
			}
			primary.Exec(t, "postgres", setup...)
			makeStandby(t, primary, standby)

			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			onPrimary := connect(ctx, t, primary.DSNFor(monitorRole, monitorPassword, "postgres"))
			onStandby := connect(ctx, t, standby.DSNFor(monitorRole, monitorPassword, "postgres"))

			var rows []map[string]any
			require.Eventually(t, func() bool {
				rows = probeRows(ctx, t, onStandby, standby.Version, "pg_stat_replication")
				return len(rows) == 1 && rows[0]["status"] == "streaming"
			}, 30*time.Second, 100*time.Millisecond, "WAL receiver never streamed: %v", rows)
			require.Equal(t, "standby", rows[0]["role"])
			require.Equal(t, "standby1", rows[0]["slot_name"])
			require.EqualValues(t, primary.Port, rows[0]["sender_port"])
			require.Nil(t, rows[0]["application_name"], "WAL sender columns are NULL on the WAL receiver row")

			rows = probeRows(ctx, t, onPrimary, primary.Version, "pg_stat_replication")
			require.Len(t, rows, 1)
			require.Equal(t, "primary", rows[0]["role"])
			require.Equal(t, "standby1", rows[0]["application_name"])

			require.Equal(t, "primary", probeRows(ctx, t, onPrimary, primary.Version, "pg_node_role")[0]["role"])
			role := probeRows(ctx, t, onStandby, standby.Version, "pg_node_role")[0]
			require.Equal(t, "standby", role["role"])
			require.Equal(t, true, role["pg_is_in_recovery"])
			require.Equal(t, true, role["wal_receiver_active"])

			// The slot was copied with the data directory; on the standby
			// its retained WAL is measured from the received position.
			slots := probeRows(ctx, t, onStandby, standby.Version, "pg_replication_slots")
			require.Len(t, slots, 1)
			require.NotNil(t, slots[0]["retained_wal_bytes"])

			for _, p := range probes.All {
				sql, ok := p.QueryFor(standby.Version)
				if p.Scope != probes.ScopeServer || !ok {
					continue
				}
				t.Run(p.Name, func(t *testing.T) {
					reason := checkReason(ctx, t, onStandby, p)
					if strings.Contains(reason, "system_stats") {
						// The host statistics extension is not set up on the
						// standby: what must hold is the exact reason.
						require.Equal(t, "extension system_stats not installed", reason)
						return
					}
					require.Empty(t, reason)
					collect(ctx, t, onStandby, standby.Version, p, sql)
				})
			}
		})
	}
}

// makeStandby turns the standby cluster into a streaming replica of the
// primary: both are stopped, the primary's cleanly shut down data directory
// replaces the standby's (a valid seed, as no WAL is missing), and the
// standby restarts in standby mode streaming from slot standby1.
func makeStandby(t *testing.T, primary, standby *pgtest.Cluster) {
	t.Helper()
	require.NoError(t, standby.Stop())
	require.NoError(t, primary.Stop())
	entries, err := os.ReadDir(standby.DataDir)
	require.NoError(t, err)
	for _, e := range entries {
		require.NoError(t, os.RemoveAll(filepath.Join(standby.DataDir, e.Name())))
	}
	// cp -a keeps the files owned by the user the servers run as.
	out, err := exec.Command("cp", "-a", primary.DataDir+"/.", standby.DataDir).CombinedOutput()
	require.NoError(t, err, string(out))
	info, err := os.Stat(standby.DataDir)
	require.NoError(t, err)
	st := info.Sys().(*syscall.Stat_t)
	conf := fmt.Sprintf("primary_conninfo = 'host=127.0.0.1 port=%d user=postgres application_name=standby1'\n"+
		"primary_slot_name = 'standby1'\n", primary.Port)
	for name, content := range map[string]string{"standby.signal": "", "postgresql.conf": conf} {
		path := filepath.Join(standby.DataDir, name)
		f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		require.NoError(t, err)
		_, err = f.WriteString(content)
		require.NoError(t, err)
		require.NoError(t, f.Close())
		require.NoError(t, os.Chown(path, int(st.Uid), int(st.Gid)))
	}
	require.NoError(t, primary.Restart())
	require.NoError(t, standby.Restart())
}

// probeRows runs a probe's query for the server version and returns its
// rows keyed by column name.
func probeRows(ctx context.Context, t *testing.T, conn *pgx.Conn, version int, name string) []map[string]any {
	t.Helper()
	p, err := probes.ByName(name)
	require.NoError(t, err)
	sql, ok := p.QueryFor(version)
	require.True(t, ok, "no query for %d", version)
	rows, err := conn.Query(ctx, sql)
	require.NoError(t, err, sql)
	out, err := pgx.CollectRows(rows, pgx.RowToMap)
	require.NoError(t, err, sql)
	return out
}

// streamWAL plays a physical standby: it opens a replication connection
// and starts streaming from the slot, so that the server runs a WAL sender
// for it until the test ends. It returns the WAL sender's pid.
func streamWAL(ctx context.Context, t *testing.T, dsn, slot string) uint32 {
	t.Helper()
	cfg, err := pgconn.ParseConfig(dsn)
	require.NoError(t, err)
	cfg.RuntimeParams["replication"] = "true"
	cfg.RuntimeParams["application_name"] = "probe_test_standby"
	conn, err := pgconn.ConnectConfig(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close(context.Background()) })

	res, err := conn.Exec(ctx, "IDENTIFY_SYSTEM").ReadAll()
	require.NoError(t, err)
	require.Len(t, res, 1)
	require.Len(t, res[0].Rows, 1)
	xlogpos := string(res[0].Rows[0][2])

	conn.Frontend().Send(&pgproto3.Query{String: fmt.Sprintf("START_REPLICATION SLOT %s PHYSICAL %s", slot, xlogpos)})
	require.NoError(t, conn.Frontend().Flush())
	for {
		msg, err := conn.ReceiveMessage(ctx)
		require.NoError(t, err)
		switch m := msg.(type) {
		case *pgproto3.CopyBothResponse:
			return conn.PID()
		case *pgproto3.ErrorResponse:
			t.Fatalf("START_REPLICATION: %s", m.Message)
		}
	}
}
