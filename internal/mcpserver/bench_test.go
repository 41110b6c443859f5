package mcpserver_test

import (
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/internal/access"
	"github.com/pgcollector/pgcollector/internal/store"
	"github.com/pgcollector/pgcollector/sink/sinktest"
)

// BenchmarkToolCall measures one tool call through the SDK's client over
// loopback HTTP, token check and datastore included, for a user with 20
// connections: list_connections (with health), read_metrics of 500 rows,
// and of 500 rows of a keyed probe rebuilt from change-only storage.
// It asserts nothing about speed.
func BenchmarkToolCall(b *testing.B) {
	r := newRig(b, clusters[0])
	ctx := b.Context()
	p, err := access.Authenticate(ctx, r.pool, r.tokens["alice"])
	require.NoError(b, err)
	var id int64
	for i := range 20 {
		name := "bench-" + string(rune('a'+i))
		v, err := r.svc.CreateConnection(ctx, p, access.ConnectionInput{Name: &name, Host: &name, Username: &name})
		require.NoError(b, err)
		id = v.ID
	}
	require.NoError(b, store.EnsurePartition(ctx, r.pool, "pg_connectivity", time.Now()))
	require.NoError(b, store.EnsurePartition(ctx, r.pool, "pg_connectivity", time.Now().Add(-time.Hour)))
	_, err = r.pool.Exec(ctx, `INSERT INTO metrics.pg_connectivity (connection_id, collected_at, up, response_time_ms)
		SELECT $1, now() - make_interval(secs => g), true, 1.5 FROM generate_series(1, 600) g`, id)
	require.NoError(b, err)
	// A keyed probe stored change-only, read as full runs: 200 tables,
	// an hour of runs 5 minutes apart, 5 tables changing per run.
	sk := sinktest.New(b, r.pool)
	tables := map[int64]int64{}
	for k := range int64(200) {
		tables[k+1] = k
	}
	t0 := time.Now().UTC().Truncate(time.Second).Add(-time.Hour)
	for run := range int64(13) {
		for k := range int64(5) {
			tables[run*5+k+1] += 1000
		}
		sk.Tables(id, "app", t0.Add(time.Duration(run)*5*time.Minute), tables)
	}
	cs, err := connect(ctx, r.url, r.tokens["alice"])
	require.NoError(b, err)
	defer cs.Close()
	for name, params := range map[string]*mcp.CallToolParams{
		"list_connections": {Name: "list_connections"},
		"read_metrics_500": {Name: "read_metrics", Arguments: map[string]any{"connection_id": id, "probe": "pg_connectivity", "limit": 500}},
		"read_metrics_500_keyed": {Name: "read_metrics", Arguments: map[string]any{"connection_id": id,
			"probe": "pg_stat_all_tables", "limit": 500}},
		"get_connection_ko": {Name: "get_connection", Arguments: map[string]any{"id": 1 << 30}},
	} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				res, err := cs.CallTool(ctx, params)
				if err != nil {
					b.Fatal(err)
				}
				if res.IsError != (name == "get_connection_ko") {
					b.Fatalf("%s: unexpected result %+v", name, res.Content)
				}
			}
		})
	}
}
