package obs_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/bus"
	"github.com/pgcollector/pgcollector/internal/obs"

	"github.com/pgcollector/pgcollector/internal/config"
)

// get fetches url and returns the status and body.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// serve runs the HTTP server on a free port until the test ends.
func serve(t *testing.T, s *obs.Server) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, l) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
		http.DefaultClient.CloseIdleConnections()
	})
	return "http://" + l.Addr().String()
}

func TestServerEndpointsAndReadiness(t *testing.T) {
	pg, pool, seed := seeded(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := config.Default[bus.Config]()
	cfg.DataDir = t.TempDir()
	b, err := bus.Open(t.Context(), cfg, log)
	require.NoError(t, err)
	t.Cleanup(b.Close)

	m := obs.NewMetrics("test")
	m.ProbeRun("pg_stat_activity", "ok", 12*time.Millisecond, 7)
	m.ProbeRun("pg_stat_activity", "error", 0, 0)
	m.JobStale("pg_stat_activity")
	m.BatchPublished("pg_stat_activity", "rows")
	m.ConnectionUp("alpha", true)
	m.ConnectionUp("beta", false)
	m.Written(3, 120, 40*time.Millisecond)
	m.DedupCache(4, 6, 1<<20, 9, true)
	m.IngestLag(700 * time.Millisecond)
	m.Redelivered(bus.ConsumerSink)
	m.Poison("sink")
	_, err = obs.NewServer("not an address", m, pool, b, log)
	require.ErrorContains(t, err, "PGC_HTTP_ADDR")
	s, err := obs.NewServer("127.0.0.1:0", m, pool, b, log)
	require.NoError(t, err)
	base := serve(t, s)

	code, _ := get(t, base+"/healthz")
	require.Equal(t, http.StatusOK, code)
	code, body := get(t, base+"/metrics")
	require.Equal(t, http.StatusOK, code)
	for _, series := range []string{
		`pgcollector_probe_runs_total{probe="pg_stat_activity",result="ok"} 1`,
		`pgcollector_probe_runs_total{probe="pg_stat_activity",result="error"} 1`,
		`pgcollector_probe_duration_seconds_count{probe="pg_stat_activity"} 1`,
		`pgcollector_rows_collected_total{probe="pg_stat_activity"} 7`,
		`pgcollector_jobs_stale_total{probe="pg_stat_activity"} 1`,
		`pgcollector_batches_published_total{kind="rows",probe="pg_stat_activity"} 1`,
		`pgcollector_connection_up{connection="alpha"} 1`,
		`pgcollector_connection_up{connection="beta"} 0`,
		`pgcollector_sink_rows_total 120`,
		`pgcollector_sink_batches_total 3`,
		`pgcollector_sink_dedup_cache_total{result="hit"} 4`,
		`pgcollector_sink_dedup_cache_total{result="miss"} 6`,
		`pgcollector_sink_dedup_cache_bytes 1.048576e+06`,
		`pgcollector_sink_dedup_cache_states 9`,
		`pgcollector_sink_dedup_cache_paused 1`,
		`pgcollector_sink_copy_duration_seconds_count 1`,
		`pgcollector_ingest_lag_seconds_count 1`,
		`pgcollector_redeliveries_total{consumer="sink"} 1`,
		`pgcollector_poison_messages_total{stage="sink"} 1`,
		`pgcollector_samples_dropped_total 0`,
		`pgcollector_buffer_full 0`,
		`pgcollector_bus_up 1`,
		`pgcollector_buffer_pending_messages{consumer="sink",stream="PGC_BATCHES"} 0`,
		`pgcollector_buffer_pending_bytes{consumer="fetcher",stream="PGC_JOBS"} 0`,
		`pgcollector_buffer_max_bytes{stream="PGC_BATCHES"} 2.147483648e+09`,
		`pgcollector_build_info{version="test"} 1`,
	} {
		require.Contains(t, body, series+"\n")
	}

	code, body = get(t, base+"/api/fleet")
	require.Equal(t, http.StatusOK, code, body)
	var fleet obs.Fleet
	require.NoError(t, json.Unmarshal([]byte(body), &fleet))
	require.Len(t, fleet.Connections, 3)
	code, body = get(t, base+"/api/backlog")
	require.Equal(t, http.StatusOK, code)
	var backlog obs.BacklogReport
	require.NoError(t, json.Unmarshal([]byte(body), &backlog))
	require.Len(t, backlog.Streams, 3)
	code, body = get(t, base+"/api/series?connection="+itoa(seed.Alpha)+"&range=1h")
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, `"key": "tps"`)
	code, _ = get(t, base+"/api/series")
	require.Equal(t, http.StatusBadRequest, code)
	code, body = get(t, base+"/")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `<script src="/static/app.js">`)
	code, body = get(t, base+"/static/app.js")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "renderFleet")
	code, _ = get(t, base+"/nope")
	require.Equal(t, http.StatusNotFound, code)

	// Readiness follows the datastore: down within 15 s of it stopping,
	// up again once it is back.
	code, body = get(t, base+"/readyz")
	require.Equal(t, http.StatusOK, code, body)
	require.NoError(t, pg.Stop())
	stopped := time.Now()
	waitReady(t, base, http.StatusServiceUnavailable, 15*time.Second)
	t.Logf("/readyz answered 503 %s after the datastore stopped", time.Since(stopped).Round(time.Millisecond))
	code, body = get(t, base+"/readyz")
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.Contains(t, body, "datastore:")
	require.NotContains(t, body, "bus:")
	code, _ = get(t, base+"/healthz")
	require.Equal(t, http.StatusOK, code, "alive while not ready")
	code, body = get(t, base+"/api/fleet")
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.Contains(t, body, `"error"`)
	require.NoError(t, pg.Restart())
	waitReady(t, base, http.StatusOK, 15*time.Second)
}

// waitReady polls /readyz until it answers want or the limit passes.
func waitReady(t *testing.T, base string, want int, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	last := ""
	for time.Now().Before(deadline) {
		code, body := get(t, base+"/readyz")
		if code == want {
			return
		}
		last = strings.TrimSpace(body)
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("/readyz did not answer %d within %s; last answer: %s", want, limit, last)
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
