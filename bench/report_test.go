package bench

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRewritePrefix(t *testing.T) {
	in := []byte("1\t2026-01-05T00:00:00Z\tapp1\tx\t1\n1\t2026-01-05T00:00:00Z\tapp1\ty\\tz\t2\n")
	at := time.Date(2026, 1, 6, 1, 2, 3, 4000, time.UTC)
	got := rewritePrefix(in, 42, at)
	require.Equal(t, "42\t2026-01-06T01:02:03.000004Z\tapp1\tx\t1\n42\t2026-01-06T01:02:03.000004Z\tapp1\ty\\tz\t2\n", string(got))
}

func TestSumMetric(t *testing.T) {
	exposition := `# HELP pgcollector_jobs_stale_total Jobs dropped.
# TYPE pgcollector_jobs_stale_total counter
pgcollector_jobs_stale_total{probe="a"} 2
pgcollector_jobs_stale_total{probe="b"} 3
pgcollector_jobs_stale_totalx 100
pgcollector_sink_dedup_cache_bytes 3.3554432e+07
`
	sums, found := sumMetrics(strings.NewReader(exposition), "pgcollector_jobs_stale_total", "pgcollector_other")
	require.True(t, found["pgcollector_jobs_stale_total"])
	require.Equal(t, 5.0, sums["pgcollector_jobs_stale_total"])
	require.False(t, found["pgcollector_other"], "a counter without series")
	require.Zero(t, sums["pgcollector_other"])
	one := `pgcollector_jobs_stale_total{probe="b"}`
	sums, found = sumMetrics(strings.NewReader(exposition), one)
	require.True(t, found[one])
	require.Equal(t, 3.0, sums[one], "one series, named with its labels")
	sums, found = sumMetrics(strings.NewReader(exposition), "pgcollector_sink_dedup_cache_bytes")
	require.True(t, found["pgcollector_sink_dedup_cache_bytes"], "a metric without labels")
	require.Equal(t, float64(32<<20), sums["pgcollector_sink_dedup_cache_bytes"])
}

// The last line of `make bench` is parsed by people and scripts alike:
// its shape is fixed by the issue.
func TestLineShape(t *testing.T) {
	r := &Report{Servers: 1000}
	r.Steady.RowsPerSecond = 1234.5
	r.Steady.Lag.P99 = 1500 * time.Millisecond
	r.Sink = SinkResult{SinkRowsPerS: 90, RawRowsPerS: 100}
	shape := regexp.MustCompile(`^bench: servers=\d+ rows_per_s=\d+ cpu_s_per_1m_rows=[\d.]+ rss_mb=\d+ ` +
		`sink_vs_raw_copy=[\d.]+ drain_vs_steady=[\d.]+ e2e_p99_ms=\d+ stale_jobs=-?\d+$`)
	require.Regexp(t, shape, r.Line())
	require.Contains(t, r.Line(), "sink_vs_raw_copy=0.90")
	require.Contains(t, r.Line(), "e2e_p99_ms=1500")
}

// report.json lets `fleet render` print a run again: the report must
// survive the round trip.
func TestReportJSONRoundTrip(t *testing.T) {
	r := &Report{Servers: 50, Factor: 10, DrainErr: "datastore gone"}
	r.Steady.RowsByProbe = map[string]int64{"pg_stat_activity": 12}
	r.Steady.Waits = Waits{Samples: 1, Total: 2, Sites: map[string]int{"x": 2}}
	r.Steady.Lag.P99 = 1234 * time.Millisecond
	raw, err := json.Marshal(r)
	require.NoError(t, err)
	var back Report
	require.NoError(t, json.Unmarshal(raw, &back))
	require.Equal(t, r.Line(), back.Line())
	require.Equal(t, r.Steady.Waits, back.Steady.Waits)
	require.Equal(t, "datastore gone", back.DrainErr)
}

// The catalogue's defaults ask about 0.15 jobs per second of a server
// (pg_connectivity and pg_stat_replication every 30 s, pg_stat_activity
// every minute, the rest every 5 minutes or more); due slots scale with
// servers and compression.
func TestSlotsDue(t *testing.T) {
	one := SlotsDue(1, 1, 5*time.Minute)
	require.InDelta(t, 44, one, 2)
	require.InDelta(t, 1000*one, SlotsDue(1000, 1, 5*time.Minute), 1e-6)
	require.Greater(t, SlotsDue(1, 10, 5*time.Minute), 9*one)
	require.InDelta(t, 78.0, served(1000, 220), 1e-9)
	require.Zero(t, served(0, 5))
}
