package store

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/probes"
)

// TestPartitionColumnsAligned checks that a weekly partition stores its
// columns widest-aligned first and variable-width last, that the parent
// keeps the catalogue's order, that rows written through the parent read
// back the same, and that the aligned row is smaller than the same row in
// the catalogue's order.
func TestPartitionColumnsAligned(t *testing.T) {
	ctx := context.Background()
	_, pool := newPool(t)
	require.NoError(t, Migrate(ctx, pool, probes.All))
	at := time.Date(2026, 12, 9, 12, 0, 0, 0, time.UTC)
	require.NoError(t, EnsurePartition(ctx, pool, "pg_stat_all_tables", at))

	order := func(rel string) []string {
		rows, err := pool.Query(ctx, `SELECT attname::text || ':' || attalign::text || ':' || (attlen < 0)::text
FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`, rel)
		require.NoError(t, err)
		var out []string
		for rows.Next() {
			var s string
			require.NoError(t, rows.Scan(&s))
			out = append(out, s)
		}
		require.NoError(t, rows.Err())
		return out
	}
	parent := order("metrics.pg_stat_all_tables")
	p, err := probes.ByName("pg_stat_all_tables")
	require.NoError(t, err)
	for i, c := range p.StoredColumns() {
		require.True(t, strings.HasPrefix(parent[i], c.Name+":"), "parent column %d: %s, want %s", i, parent[i], c.Name)
	}
	part := order("metrics.pg_stat_all_tables_20261207")
	require.Len(t, part, len(parent))
	rank := func(s string) int {
		f := strings.Split(s, ":")
		if f[2] == "true" {
			return 9
		}
		return strings.Index("disc", f[1])
	}
	for i := 1; i < len(part); i++ {
		require.LessOrEqual(t, rank(part[i-1]), rank(part[i]), "partition columns out of order: %v", part)
	}
	require.Equal(t, "collected_at:d:false", part[0])
	require.True(t, strings.HasPrefix(part[len(part)-1], "relname:"), "texts last: %v", part)

	// A row through the parent with the catalogue's column list, as the
	// sink's COPY names them, reads back the same.
	_, err = pool.Exec(ctx, `INSERT INTO metrics.pg_stat_all_tables (connection_id, collected_at, database_name, relid,
schemaname, relname, seq_scan, n_live_tup) VALUES (7, '2026-12-09 12:00:00+00', 'app1', 16384, 'public', 't1', 3, 40)`)
	require.NoError(t, err)
	var got string
	require.NoError(t, pool.QueryRow(ctx, `SELECT concat_ws(',', connection_id, database_name, relid, schemaname, relname,
seq_scan, n_live_tup) FROM metrics.pg_stat_all_tables`).Scan(&got))
	require.Equal(t, "7,app1,16384,public,t1,3,40", got)

	// The same row in the catalogue's order takes more bytes.
	_, err = pool.Exec(ctx, `CREATE TABLE declared_order (LIKE metrics.pg_stat_all_tables);
INSERT INTO declared_order SELECT * FROM metrics.pg_stat_all_tables`)
	require.NoError(t, err)
	var aligned, declared int
	require.NoError(t, pool.QueryRow(ctx, `SELECT (SELECT pg_column_size(t.*) FROM metrics.pg_stat_all_tables_20261207 t),
(SELECT pg_column_size(d.*) FROM declared_order d)`).Scan(&aligned, &declared))
	require.Less(t, aligned, declared)
}
