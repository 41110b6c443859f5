package pgtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestStopRestartKill walks a cluster through a clean stop and a crash and
// checks that committed data survives both and that the crash leaves no
// server process behind.
func TestStopRestartKill(t *testing.T) {
	t.Parallel()
	for _, major := range Versions() {
		t.Run(fmt.Sprintf("pg%d", major), func(t *testing.T) {
			t.Parallel()
			c := Start(t, Options{Version: major})
			c.Exec(t, "postgres", "CREATE TABLE kept (v text)", "INSERT INTO kept VALUES ('before stop')")

			require.NoError(t, c.Stop())
			requireDown(t, c)
			require.NoError(t, c.Stop(), "a second Stop is a no-op")
			start := time.Now()
			require.NoError(t, c.Restart())
			t.Logf("restart after stop: %s", time.Since(start).Round(time.Millisecond))
			require.Error(t, c.Restart(), "Restart of a running server")
			require.Equal(t, []string{"before stop"}, keptRows(t, c))

			// Synchronous commit makes the row durable against the kill;
			// the harness default (off) could lose it, as a real crash would.
			c.Exec(t, "postgres", "SET synchronous_commit = on", "INSERT INTO kept VALUES ('before kill')")
			pids := serverPIDs(t, c)
			require.NoError(t, c.Kill())
			for _, pid := range pids {
				require.False(t, alive(pid), "server process %d survived Kill", pid)
			}
			requireDown(t, c)

			start = time.Now()
			require.NoError(t, c.Restart())
			t.Logf("restart after kill (crash recovery): %s", time.Since(start).Round(time.Millisecond))
			require.Equal(t, []string{"before kill", "before stop"}, keptRows(t, c))
			require.Contains(t, c.logTail(100), "not properly shut down")
		})
	}
}

// TestCloseRemovesEverything checks that Close leaves neither processes nor
// files, whether the server is running or was killed.
func TestCloseRemovesEverything(t *testing.T) {
	t.Parallel()
	for _, kill := range []bool{false, true} {
		t.Run(fmt.Sprintf("killed=%v", kill), func(t *testing.T) {
			t.Parallel()
			c, err := StartCluster(context.Background(), Options{})
			require.NoError(t, err)
			pids := serverPIDs(t, c)
			if kill {
				require.NoError(t, c.Kill())
			}
			require.NoError(t, c.Close())
			require.NoError(t, c.Close(), "a second Close is a no-op")
			require.NoDirExists(t, c.dir)
			for _, pid := range pids {
				require.False(t, alive(pid), "server process %d survived Close", pid)
			}
			require.Error(t, c.Restart(), "Restart after Close")
		})
	}
}

// TestPortTakenRetries holds the first port offered to a start and checks
// that the cluster moves on to another one.
func TestPortTakenRetries(t *testing.T) {
	t.Parallel()
	c := Start(t, Options{})
	require.NoError(t, c.Stop())

	taken, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer taken.Close()
	takenPort := taken.Addr().(*net.TCPAddr).Port
	offered := []int{takenPort}
	next := func() (int, error) {
		if len(offered) > 0 {
			p := offered[0]
			offered = offered[1:]
			return p, nil
		}
		return freePort()
	}

	require.NoError(t, c.startOnFreePort(context.Background(), next))
	require.NotEqual(t, takenPort, c.Port)
	c.Exec(t, "postgres", "SELECT 1")
}

func requireDown(t *testing.T, c *Cluster) {
	t.Helper()
	conn, err := tryConnect(c.DSN("postgres"))
	if err == nil {
		_ = conn.Close(context.Background())
	}
	require.Error(t, err, "server still answers")
}

func keptRows(t *testing.T, c *Cluster) []string {
	t.Helper()
	conn := connect(t, c.DSN("postgres"))
	rows, err := conn.Query(context.Background(), "SELECT v FROM kept ORDER BY v")
	require.NoError(t, err)
	var out []string
	for rows.Next() {
		var v string
		require.NoError(t, rows.Scan(&v))
		out = append(out, v)
	}
	require.NoError(t, rows.Err())
	require.NoError(t, conn.Close(context.Background()))
	return out
}

// serverPIDs lists the postmaster and its children.
func serverPIDs(t *testing.T, c *Cluster) []int {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	require.NotNil(t, c.pm, "server not running")
	pid := c.pm.cmd.Process.Pid
	require.True(t, alive(pid))
	children := childrenOf(pid)
	require.NotEmpty(t, children, "postmaster %d has no children", pid)
	_, err := os.Stat(c.DataDir)
	require.NoError(t, err)
	return append(children, pid)
}

// TestStartFailureReportsLog checks that a server that cannot start fails
// with its own words and leaves nothing behind.
func TestStartFailureReportsLog(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		settings map[string]string
		want     string
		fromLog  bool // the failure is the server's, so the error quotes its log
	}{
		{"bad value", map[string]string{"shared_buffers": "lots"}, `invalid value for parameter "shared_buffers"`, true},
		{"unknown library", map[string]string{"shared_preload_libraries": "no_such_lib"}, `"no_such_lib"`, true},
		{"newline in value", map[string]string{"work_mem": "1MB\nfsync = on"}, "invalid setting", false},
	}
	logPathRE := regexp.MustCompile(`last lines of (\S+)/server\.log`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := StartCluster(context.Background(), Options{Settings: tt.settings})
			require.Nil(t, c)
			t.Logf("start error: %v", err)
			require.ErrorContains(t, err, tt.want)
			if tt.fromLog {
				m := logPathRE.FindStringSubmatch(err.Error())
				require.NotNil(t, m, "error does not quote the server log: %v", err)
				require.NoDirExists(t, m[1], "cluster dir left behind")
			}
		})
	}
}
