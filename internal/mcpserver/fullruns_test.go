package mcpserver_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/internal/mcpserver"
	"github.com/pgcollector/pgcollector/sink/sinktest"
)

// read_metrics of a keyed probe stored change-only (the sink's default)
// returns the runs as collected: the table whose counters did not change
// is in the latest run, next to the one that did.
func TestReadMetricsGivesFullRuns(t *testing.T) {
	eachVersion(t, func(t *testing.T, r *rig) {
		alice := r.client(t, r.tokens["alice"])
		id := add(t, alice, "dedup")
		sk := sinktest.New(t, r.pool)
		t0 := time.Now().UTC().Truncate(time.Second).Add(-2 * time.Minute)
		sk.Tables(id, "app", t0, map[int64]int64{1: 10, 2: 20})
		sk.Tables(id, "app", t0.Add(time.Minute), map[int64]int64{1: 11, 2: 20})

		m := ok[mcpserver.Metrics](t, alice, "read_metrics",
			map[string]any{"connection_id": id, "probe": "pg_stat_all_tables", "limit": 3})
		require.Equal(t, 3, m.Count)
		type got struct {
			at           time.Time
			relid, scans float64
		}
		var rows []got
		for _, row := range m.Rows {
			at, err := time.Parse(time.RFC3339Nano, row["collected_at"].(string))
			require.NoError(t, err)
			require.NotContains(t, row, "sample_kind")
			rows = append(rows, got{at.UTC(), row["relid"].(float64), row["seq_scan"].(float64)})
		}
		latest := t0.Add(time.Minute)
		require.Equal(t, []got{{latest, 1, 11}, {latest, 2, 20}, {t0, 1, 10}}, rows)
	})
}
