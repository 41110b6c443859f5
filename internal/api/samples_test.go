package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/sink/sinktest"
)

// sample is the part of a pg_stat_all_tables sample the test reads.
type sample struct {
	CollectedAt time.Time `json:"collected_at"`
	Database    string    `json:"database_name"`
	Relid       int64     `json:"relid"`
	SeqScan     int64     `json:"seq_scan"`
}

// With change-only storage (the sink's default) the table of a keyed
// probe holds only what changed; the samples route still answers with the
// runs as they were collected: a table whose counters did not change is in
// the latest run, a dropped one is not, newest first and bounded by limit.
func TestSamplesAreFullRuns(t *testing.T) {
	r := newRig(t)
	id := r.create("alice", "dedup-db", nil)
	// An interval well below the runs' spacing: the read's first window
	// then holds only the newest run and has to grow to find the others.
	code, body := r.do("root", "PATCH", "/api/v1/probes/pg_stat_all_tables", map[string]any{"interval_seconds": 10})
	require.Equal(t, http.StatusOK, code, body)
	sk := sinktest.New(t, r.pool)
	t0 := time.Now().UTC().Truncate(time.Second).Add(-3 * time.Minute)
	runs := []map[int64]int64{
		{1: 10, 2: 20, 3: 30}, // keyframe
		{1: 11, 2: 20, 3: 30}, // 2 and 3 unchanged
		{1: 12, 2: 20},        // 2 unchanged, 3 dropped
	}
	for i, run := range runs {
		sk.Tables(id, "app", t0.Add(time.Duration(i)*time.Minute), run)
	}
	latest := t0.Add(2 * time.Minute)
	require.Equal(t, 1, r.count(`SELECT count(*) FROM metrics.pg_stat_all_tables
		WHERE connection_id = $1 AND collected_at = $2 AND sample_kind IS NULL`, id, latest),
		"the sink stored only the changed table of the latest run")

	read := func(limit int) []sample {
		code, body := r.do("alice", "GET", fmt.Sprintf("/api/v1/connections/%d/samples/pg_stat_all_tables?limit=%d", id, limit), nil)
		require.Equal(t, http.StatusOK, code, body)
		require.NotContains(t, body, "sample_kind", "the stored form's marker column is not a sample's")
		var out []sample
		require.NoError(t, json.Unmarshal([]byte(body), &out))
		for i := range out {
			out[i].CollectedAt = out[i].CollectedAt.UTC()
		}
		return out
	}
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Minute) }
	require.Equal(t, []sample{{latest, "app", 1, 12}, {latest, "app", 2, 20}}, read(2),
		"the unchanged table is in the latest run")
	require.Equal(t, []sample{
		{at(2), "app", 1, 12}, {at(2), "app", 2, 20},
		{at(1), "app", 1, 11}, {at(1), "app", 2, 20}, {at(1), "app", 3, 30},
		{at(0), "app", 1, 10}, {at(0), "app", 2, 20}, {at(0), "app", 3, 30},
	}, read(100), "every run in full, newest first")
	require.Equal(t, []sample{{at(2), "app", 1, 12}, {at(2), "app", 2, 20}, {at(1), "app", 1, 11}, {at(1), "app", 2, 20}},
		read(4))

	// Bob reads nothing of it: the same not found as a missing id.
	code, _ = r.do("bob", "GET", fmt.Sprintf("/api/v1/connections/%d/samples/pg_stat_all_tables", id), nil)
	require.Equal(t, http.StatusNotFound, code)
}
