package mcpserver_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/internal/mcpserver"
	"github.com/pgcollector/pgcollector/internal/store"
)

// read_metrics returns the newest samples first, 50 unless asked, never
// more than 500, and only of the caller's connections.
func TestReadMetricsIsBounded(t *testing.T) {
	eachVersion(t, func(t *testing.T, r *rig) {
		ctx := t.Context()
		alice := r.client(t, r.tokens["alice"])
		id := add(t, alice, "sampled")
		now := time.Now()
		for _, at := range []time.Time{now.Add(-time.Hour), now} {
			require.NoError(t, store.EnsurePartition(ctx, r.pool, "pg_connectivity", at))
		}
		// 600 samples, one a second, the newest 1 s ago; the failing ones
		// carry an error text to read back.
		// Big counters come back exact, not rounded through float64.
		require.NoError(t, store.EnsurePartition(ctx, r.pool, "pg_stat_wal", now))
		_, err := r.pool.Exec(ctx, `INSERT INTO metrics.pg_stat_wal (connection_id, collected_at, wal_records, wal_bytes)
			VALUES ($1, now(), 9007199254740993, 123456789012345678901234567890)`, id)
		require.NoError(t, err)
		res := call(t, alice, "read_metrics", map[string]any{"connection_id": id, "probe": "pg_stat_wal", "limit": 1})
		require.False(t, res.isError, res.text)
		// The text is what an assistant reads (the Go client's structured
		// content is decoded into float64s on this side).
		require.Contains(t, res.text, `"wal_records":9007199254740993`)
		require.Contains(t, res.text, `"wal_bytes":123456789012345678901234567890`)

		_, err = r.pool.Exec(ctx, `INSERT INTO metrics.pg_connectivity (connection_id, collected_at, up, response_time_ms, error)
			SELECT $1, now() - make_interval(secs => g), g % 7 <> 0, 1.5, CASE WHEN g % 7 = 0 THEN 'refused' END
			FROM generate_series(1, 600) g`, id)
		require.NoError(t, err)

		read := func(args map[string]any) mcpserver.Metrics {
			args["connection_id"], args["probe"] = id, "pg_connectivity"
			return ok[mcpserver.Metrics](t, alice, "read_metrics", args)
		}
		def := read(map[string]any{})
		require.Equal(t, mcpserver.DefaultRows, def.Count)
		require.Len(t, def.Rows, mcpserver.DefaultRows)
		require.Equal(t, mcpserver.DefaultRows, def.Limit)
		newest, err := time.Parse(time.RFC3339Nano, def.Rows[0]["collected_at"].(string))
		require.NoError(t, err)
		second, err := time.Parse(time.RFC3339Nano, def.Rows[1]["collected_at"].(string))
		require.NoError(t, err)
		require.True(t, newest.After(second), "newest first")
		require.EqualValues(t, id, def.Rows[0]["connection_id"])
		require.Contains(t, def.Rows[0], "up")

		require.Len(t, read(map[string]any{"limit": 3}).Rows, 3)
		require.Len(t, read(map[string]any{"limit": mcpserver.MaxRows}).Rows, mcpserver.MaxRows)

		msg := fails(t, alice, "read_metrics", map[string]any{"connection_id": id, "probe": "pg_connectivity",
			"limit": mcpserver.MaxRows + 1})
		require.Contains(t, msg, "limit")
		require.Contains(t, msg, "500")

		// An unknown probe is not found, and its name is never SQL.
		msg = fails(t, alice, "read_metrics", map[string]any{"connection_id": id, "probe": `x"; DROP TABLE public.users; --`})
		require.Contains(t, msg, "not found")
		var users int
		require.NoError(t, r.pool.QueryRow(ctx, `SELECT count(*) FROM public.users`).Scan(&users))
		require.Equal(t, 3, users)

		// A connection without samples reads as no rows, not an error.
		empty := ok[mcpserver.Metrics](t, alice, "read_metrics", map[string]any{"connection_id": add(t, alice, "quiet"),
			"probe": "pg_connectivity"})
		require.Zero(t, empty.Count)
		require.NotNil(t, empty.Rows)
	})
}
