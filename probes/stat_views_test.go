package probes_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/internal/pgtest"
	"github.com/pgcollector/pgcollector/probes"
)

// statViewsSetup gives the table and index probes every kind of relation
// they report: a table with a TOAST table and two indexes that was scanned,
// updated, deleted from and vacuumed, a partitioned table with an index,
// and a materialized view with an index.
var statViewsSetup = []string{
	"CREATE TABLE m_t (id bigint PRIMARY KEY, k int, v text)",
	"CREATE INDEX ON m_t (k)",
	"ALTER TABLE m_t ALTER v SET STORAGE EXTERNAL",
	"INSERT INTO m_t SELECT g, g % 10, repeat(md5(g::text), 100) FROM generate_series(1, 200) g",
	"SELECT count(*) FROM m_t WHERE id = 5",
	"SELECT sum(length(v)) FROM m_t",
	"UPDATE m_t SET k = k + 1 WHERE id < 20",
	"DELETE FROM m_t WHERE id > 190",
	"VACUUM ANALYZE m_t",
	"CREATE TABLE m_p (id int, k int) PARTITION BY RANGE (id)",
	"CREATE TABLE m_p1 PARTITION OF m_p FOR VALUES FROM (0) TO (100)",
	"CREATE INDEX ON m_p (k)",
	"INSERT INTO m_p SELECT g, g FROM generate_series(0, 99) g",
	"SELECT count(*) FROM m_p WHERE k = 3",
	"CREATE MATERIALIZED VIEW m_mv AS SELECT id, k FROM m_t",
	"CREATE INDEX ON m_mv (id)",
}

// TestTableAndIndexProbesMatchTheViews checks that pg_stat_all_tables and
// pg_stat_all_indexes, which call the statistics functions themselves,
// report on every version exactly what the views they stand for report,
// read in the same statistics snapshot: every column the views have, for
// every relation; a column the views lack on that version is NULL.
func TestTableAndIndexProbesMatchTheViews(t *testing.T) {
	for _, major := range pgtest.Versions() {
		t.Run(fmt.Sprintf("pg%d", major), func(t *testing.T) {
			t.Parallel()
			c := pgtest.Start(t, pgtest.Options{Version: major})
			c.Exec(t, "postgres", statViewsSetup...)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			conn := connect(ctx, t, c.DSN("postgres"))
			for _, tc := range []struct{ probe, views, key string }{
				{"pg_stat_all_tables", "pg_stat_all_tables s LEFT JOIN pg_statio_all_tables io ON io.relid = s.relid", "relid"},
				{"pg_stat_all_indexes", "pg_stat_all_indexes s LEFT JOIN pg_statio_all_indexes io ON io.indexrelid = s.indexrelid", "indexrelid"},
			} {
				p, err := probes.ByName(tc.probe)
				require.NoError(t, err)
				sql, ok := p.QueryFor(c.Version)
				require.True(t, ok)
				tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
				require.NoError(t, err)
				if c.Version >= 150000 {
					_, err = tx.Exec(ctx, "SET LOCAL stats_fetch_consistency = snapshot")
					require.NoError(t, err)
				}
				got := textRowsByKey(ctx, t, tx, sql, tc.key)
				want := textRowsByKey(ctx, t, tx, "SELECT s.*, io.* FROM "+tc.views, tc.key)
				require.NoError(t, tx.Rollback(ctx))

				require.Len(t, got, len(want), tc.probe)
				if tc.key == "relid" {
					_, ok := want[relOid(ctx, t, conn, "m_p")]
					require.True(t, ok, "the partitioned table is in the view")
				}
				for key, w := range want {
					g, ok := got[key]
					require.True(t, ok, "%s: no row for %s", tc.probe, key)
					for col, v := range w {
						require.Equal(t, v, g[col], "%s: %s of %s", tc.probe, col, key)
					}
					for col, v := range g {
						if _, ok := w[col]; !ok {
							require.Nil(t, v, "%s: %s is not in the views of PostgreSQL %d", tc.probe, col, major)
						}
					}
				}
			}
		})
	}
}

// textRowsByKey runs sql and returns its rows as text by column name,
// keyed by the value of column key; NULL is nil. Of two columns with one
// name the first counts (s.relid, not the NULL io.relid of a partitioned
// table).
func textRowsByKey(ctx context.Context, t *testing.T, tx pgx.Tx, sql, key string) map[string]map[string]*string {
	t.Helper()
	rows, err := tx.Query(ctx, sql, pgx.QueryExecModeSimpleProtocol)
	require.NoError(t, err)
	defer rows.Close()
	out := map[string]map[string]*string{}
	for rows.Next() {
		row := map[string]*string{}
		for i, fd := range rows.FieldDescriptions() {
			if _, seen := row[fd.Name]; seen {
				continue
			}
			if raw := rows.RawValues()[i]; raw != nil {
				v := string(raw)
				row[fd.Name] = &v
			} else {
				row[fd.Name] = nil
			}
		}
		require.NotNil(t, row[key])
		out[*row[key]] = row
	}
	require.NoError(t, rows.Err())
	return out
}

func relOid(ctx context.Context, t *testing.T, conn *pgx.Conn, name string) string {
	t.Helper()
	var oid string
	require.NoError(t, conn.QueryRow(ctx, "SELECT $1::regclass::oid::text", name).Scan(&oid))
	return oid
}
