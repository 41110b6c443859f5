package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/internal/e2e"
	"github.com/pgcollector/pgcollector/internal/obs/browsertest"
	"github.com/pgcollector/pgcollector/internal/pgtest"
)

// TestAcceptanceObservability is the acceptance flow of issue 8, through
// the built binary: a running collector answers /healthz 200, /metrics
// with pgcollector_ series including probe runs and the backlog, / with a
// page (rendered by headless Chromium) naming the monitored connection,
// and `status --json` parses and names every connection. It goes on with
// an unhealthy connection (status exits 1), a datastore outage (/readyz
// 503, back to 200) and status of a stopped collector (backlog read from
// the store). PGC_MEMORY_LIMIT shows as the Go runtime's limit in /metrics.
func TestAcceptanceObservability(t *testing.T) {
	ctx := context.Background()
	const password = "obs-Pw-51c2"
	addr := freeAddr(t)
	base := "http://" + addr
	c := e2e.NewCollector(t, "PGC_HTTP_ADDR="+addr, "PGC_CATALOG_REFRESH=1s", "PGC_MEMORY_LIMIT=123MiB")
	mon := pgtest.Start(t, pgtest.Options{})
	require.NoError(t, e2e.MonitorRole(ctx, mon, "pgc_monitor", password, "app1"))
	id := c.AddConnection(t, "mon", mon, "pgc_monitor", password)
	c.OnlyProbes(t, 5, "pg_connectivity", "pg_stat_activity", "pg_stat_database", "pg_stat_wal", "pg_stat_replication")

	proc, err := c.Env.Start(nil, "run")
	require.NoError(t, err)
	stopped := false
	stop := func() {
		stopped = true
		code, took := proc.Stop(syscall.SIGTERM, 20*time.Second)
		require.Equal(t, 0, code, "exit after SIGTERM (%s); output:\n%s", took, proc.Output())
	}
	t.Cleanup(func() {
		if !stopped {
			proc.Stop(syscall.SIGTERM, 20*time.Second)
		}
		if t.Failed() {
			t.Logf("pgcollector output:\n%s", proc.Output())
		}
	})
	require.Eventually(t, func() bool {
		return e2e.Value[int](t, c, `SELECT count(DISTINCT collected_at)::int FROM metrics.pg_stat_database
			WHERE connection_id = $1 AND database_name = 'postgres'`, id) >= 3
	}, 90*time.Second, 500*time.Millisecond, "three pg_stat_database samples at 5 s")

	t.Run("healthz and metrics", func(t *testing.T) {
		code, _ := httpGet(t, base+"/healthz")
		require.Equal(t, http.StatusOK, code)
		code, body := httpGet(t, base+"/readyz")
		require.Equal(t, http.StatusOK, code, body)
		code, body = httpGet(t, base+"/metrics")
		require.Equal(t, http.StatusOK, code)
		require.Contains(t, body, `pgcollector_probe_runs_total{probe="pg_stat_database",result="ok"}`)
		require.Contains(t, body, `pgcollector_probe_duration_seconds_bucket{probe="pg_stat_activity"`)
		require.Contains(t, body, `pgcollector_buffer_pending_messages{consumer="sink",stream="PGC_BATCHES"}`)
		require.Contains(t, body, `pgcollector_buffer_pending_bytes{consumer="sink",stream="PGC_BATCHES"}`)
		require.Contains(t, body, `pgcollector_connection_up{connection="mon"} 1`)
		require.Contains(t, body, "pgcollector_samples_dropped_total 0\n")
		require.Contains(t, body, "pgcollector_sink_rows_total ")
		require.Contains(t, body, "pgcollector_ingest_lag_seconds_count ")
		// PGC_MEMORY_LIMIT reached the Go runtime (applyMemoryLimit).
		require.Contains(t, body, "go_gc_gomemlimit_bytes 1.28974848e+08\n")
	})

	t.Run("page in headless chromium", func(t *testing.T) {
		page := base + "/?connection=" + strconv.FormatInt(id, 10)
		dom, shot := browsertest.Render(t, page, t.TempDir(), "fleet.png")
		require.Contains(t, dom, `data-connection="mon"`, "the fleet grid names the connection")
		require.Contains(t, dom, `class="cell state-ok"`, "fresh probes are coloured ok")
		for _, key := range []string{"connections", "tps", "cache_hit_ratio", "wal_rate", "replication_lag"} {
			require.Contains(t, dom, `data-series="`+key+`"`)
		}
		require.Contains(t, dom, `class="line"`, "at least one chart has a line")
		require.Contains(t, dom, "PGC_BATCHES", "the backlog table")
		require.Contains(t, dom, "The API is off on this collector", "the connections panel without the API")
		require.Contains(t, dom, "PGC_API_ENABLED=true")
		img := browsertest.RequirePage(t, shot)
		require.Greater(t, browsertest.Colour(img, 0x2e, 0x9e, 0x44), 200, "green cells of fresh probes")
	})

	t.Run("status --json names every connection", func(t *testing.T) {
		rep, code := statusJSON(t, c)
		require.Equal(t, 0, code, "healthy fleet: %v", rep["problems"])
		require.Equal(t, true, rep["healthy"])
		require.ElementsMatch(t, []string{"mon"}, connectionNames(rep))
		require.Equal(t, "collector", rep["backlog"].(map[string]any)["source"])

		// A server that does not answer makes the fleet unhealthy.
		ghost := pgtest.Cluster{Host: "127.0.0.1", Port: freePortNumber(t)}
		c.AddConnection(t, "ghost", &ghost, "pgc_monitor", password)
		var last map[string]any
		require.Eventually(t, func() bool {
			rep, code := statusJSON(t, c)
			last = rep
			return code == 1 && strings.Contains(problemsOf(rep), "ghost")
		}, 60*time.Second, time.Second, "status reports ghost; last report: %v", last)
		require.ElementsMatch(t, []string{"ghost", "mon"}, connectionNames(last))
		require.Equal(t, false, last["healthy"])
		_, out, _ := c.Env.Run(ctx, "", "status")
		require.Contains(t, out, "UNHEALTHY")
		require.Contains(t, out, "ghost (127.0.0.1:")
	})

	t.Run("readiness follows the datastore", func(t *testing.T) {
		require.NoError(t, c.Store.Stop())
		waitStatus(t, base+"/readyz", http.StatusServiceUnavailable, 15*time.Second)
		code, body := httpGet(t, base+"/readyz")
		require.Equal(t, http.StatusServiceUnavailable, code)
		require.Contains(t, body, "datastore")
		code, _ = httpGet(t, base+"/healthz")
		require.Equal(t, http.StatusOK, code)
		code, _, errOut := c.Env.Run(ctx, "", "status")
		require.Equal(t, 1, code, "status without a datastore")
		require.Contains(t, errOut, "datastore")
		require.NoError(t, c.Store.Restart())
		waitStatus(t, base+"/readyz", http.StatusOK, 15*time.Second)
	})

	t.Run("status of a stopped collector reads the store", func(t *testing.T) {
		stop()
		rep, code := statusJSON(t, c)
		require.Contains(t, []int{0, 1}, code)
		backlog := rep["backlog"].(map[string]any)
		require.Equal(t, "bus", backlog["source"], "read from PGC_DATA_DIR: %v", backlog)
		require.Len(t, backlog["streams"], 3)
	})
}

// statusJSON runs `status --json` and returns the parsed report and the
// exit code.
func statusJSON(t *testing.T, c *e2e.Collector) (map[string]any, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code, out, errOut := c.Env.Run(ctx, "", "status", "--json")
	var rep map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &rep), "status --json (exit %d) printed:\n%s%s", code, out, errOut)
	return rep, code
}

func connectionNames(rep map[string]any) []string {
	var names []string
	for _, c := range rep["connections"].([]any) {
		names = append(names, c.(map[string]any)["name"].(string))
	}
	return names
}

func problemsOf(rep map[string]any) string {
	var out []string
	for _, p := range rep["problems"].([]any) {
		out = append(out, p.(string))
	}
	return strings.Join(out, "\n")
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

func waitStatus(t *testing.T, url string, want int, limit time.Duration) {
	t.Helper()
	start := time.Now()
	for {
		code, body := httpGet(t, url)
		if code == want {
			t.Logf("%s answered %d after %s", url, want, time.Since(start).Round(time.Millisecond))
			return
		}
		if time.Since(start) > limit {
			t.Fatalf("%s did not answer %d within %s; last: %d %s", url, want, limit, code, body)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// freeAddr returns a loopback address with a port nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	return "127.0.0.1:" + strconv.Itoa(freePortNumber(t))
}

func freePortNumber(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
