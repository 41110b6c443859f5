package bench

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgcollector/pgcollector/internal/store"
	"github.com/pgcollector/pgcollector/probes"
)

// IndexCompare is the product's btree on (connection_id, collected_at
// DESC) against a BRIN on collected_at, both built on the same copy of
// pg_stat_all_tables: size, and the time of a typical query with only one
// of them present.
type IndexCompare struct {
	Connections          int // connections the copy stands for
	CopyRows             int64
	CopyBytes            int64 // the copy's heap
	BtreeBytes           int64
	BrinBytes            int64
	Queries              []IndexQuery
	WindowNote, Relation string
}

// IndexQuery is one query's best time of five with each index.
type IndexQuery struct {
	Name             string
	Btree, Brin      time.Duration
	BtreePlan, BrinP string // the top scan node the planner chose
}

// indexQueries are what is read of the per-table rows: one table's recent
// series and the top tables by sequential scans in a window, for one
// connection (the web page's charts filter the same way: connection_id
// and a start time), and the latest run of every connection, as `status`
// reads pg_connectivity.
var indexQueries = []struct{ name, sql string }{
	{"one connection, one table, last 15 min", `SELECT collected_at, seq_scan, n_tup_ins FROM storage_copy
WHERE connection_id = 2 AND collected_at >= '@last'::timestamptz - interval '15 min'
  AND database_name = 'app1' AND relname = 't1' ORDER BY collected_at`},
	{"one connection, top 10 tables by seq_scan, last hour", `SELECT database_name, relname, max(seq_scan) - min(seq_scan) AS d
FROM storage_copy WHERE connection_id = 2
  AND collected_at >= '@last'::timestamptz - interval '1 hour'
GROUP BY 1, 2 ORDER BY d DESC NULLS LAST LIMIT 10`},
	{"one connection, seq_scan per run, whole copy", `SELECT collected_at, sum(seq_scan) FROM storage_copy
WHERE connection_id = 2 AND collected_at >= '@last'::timestamptz - interval '24 hours'
GROUP BY 1 ORDER BY 1`},
	{"every connection, rows of the last 10 min", `SELECT connection_id, count(*) FROM storage_copy
WHERE collected_at > '@last'::timestamptz - interval '10 min' GROUP BY 1`},
}

// indexCopyRows is about how many rows the index copy holds: as many
// connections as fit, so that one connection's rows are a small part of
// each time range, as in a datastore serving a fleet.
const indexCopyRows = 1_500_000

// CompareIndexes copies the last run of every database of
// pg_stat_all_tables runs times, 300 s apart (the default interval), for
// as many connections as indexCopyRows allows (at most 50), into a plain
// table in collected_at order, as the sink appends them.
func CompareIndexes(ctx context.Context, pool *pgxpool.Pool, runs int) (IndexCompare, error) {
	r := IndexCompare{Relation: "pg_stat_all_tables"}
	p, err := probes.ByName("pg_stat_all_tables")
	if err != nil {
		return r, err
	}
	var perRun int64
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM metrics.pg_stat_all_tables
WHERE (database_name, collected_at) IN (SELECT database_name, max(collected_at) FROM metrics.pg_stat_all_tables GROUP BY 1)`).
		Scan(&perRun); err != nil {
		return r, err
	}
	r.Connections = int(min(50, max(1, indexCopyRows/(max(1, perRun)*int64(runs)))))
	r.WindowNote = fmt.Sprintf("%d connections × %d runs at 300 s (%s)", r.Connections, runs, time.Duration(runs)*300*time.Second)
	var cols, names []string
	for _, c := range p.StoredColumns() {
		names = append(names, c.Name)
		switch c.Name {
		case "collected_at":
			cols = append(cols, "t.collected_at - (g * interval '300 s') + (k * interval '10 ms')")
		case "connection_id":
			cols = append(cols, "k")
		default:
			cols = append(cols, "t."+c.Name)
		}
	}
	create, err := store.AlignedTableSQL(ctx, pool, "metrics.pg_stat_all_tables", "storage_copy")
	if err != nil {
		return r, err
	}
	setup := []string{
		"DROP TABLE IF EXISTS storage_copy",
		create,
		fmt.Sprintf(`INSERT INTO storage_copy (%s) SELECT %s
FROM generate_series(%d, 0, -1) g, generate_series(1, %d) k, metrics.pg_stat_all_tables t
WHERE (t.database_name, t.collected_at) IN (SELECT database_name, max(collected_at) FROM metrics.pg_stat_all_tables GROUP BY 1)
ORDER BY g DESC, k, t.collected_at`, strings.Join(names, ", "), strings.Join(cols, ", "), runs-1, r.Connections),
		"VACUUM ANALYZE storage_copy",
	}
	for _, s := range setup {
		if _, err := pool.Exec(ctx, s); err != nil {
			return r, fmt.Errorf("index copy: %w", err)
		}
	}
	defer pool.Exec(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS storage_copy")
	if err := pool.QueryRow(ctx, `SELECT count(*), pg_relation_size('storage_copy') FROM storage_copy`).
		Scan(&r.CopyRows, &r.CopyBytes); err != nil {
		return r, err
	}
	// The queries' windows end at the copy's last run, given as a
	// constant as a dashboard gives now(): a max() over the copy would
	// need an index of its own on collected_at under the btree.
	var last string
	if err := pool.QueryRow(ctx, `SELECT max(collected_at)::text FROM storage_copy`).Scan(&last); err != nil {
		return r, err
	}
	r.Queries = make([]IndexQuery, len(indexQueries))
	for i, q := range indexQueries {
		r.Queries[i].Name = q.name
	}
	for _, kind := range []string{"btree", "brin"} {
		create := "CREATE INDEX storage_copy_idx ON storage_copy (connection_id, collected_at DESC)"
		if kind == "brin" {
			create = "CREATE INDEX storage_copy_idx ON storage_copy USING brin (collected_at)"
		}
		if _, err := pool.Exec(ctx, create); err != nil {
			return r, err
		}
		if _, err := pool.Exec(ctx, "ANALYZE storage_copy"); err != nil {
			return r, err
		}
		var size int64
		if err := pool.QueryRow(ctx, "SELECT pg_relation_size('storage_copy_idx')").Scan(&size); err != nil {
			return r, err
		}
		for i, q := range indexQueries {
			best, plan, err := bestOf(ctx, pool, strings.ReplaceAll(q.sql, "@last", last), 5)
			if err != nil {
				return r, fmt.Errorf("%s with %s: %w", q.name, kind, err)
			}
			if kind == "btree" {
				r.BtreeBytes, r.Queries[i].Btree, r.Queries[i].BtreePlan = size, best, plan
			} else {
				r.BrinBytes, r.Queries[i].Brin, r.Queries[i].BrinP = size, best, plan
			}
		}
		if _, err := pool.Exec(ctx, "DROP INDEX storage_copy_idx"); err != nil {
			return r, err
		}
	}
	return r, nil
}

// bestOf runs sql n times and returns the shortest time and the scan
// nodes of its plan.
func bestOf(ctx context.Context, pool *pgxpool.Pool, sql string, n int) (time.Duration, string, error) {
	var best time.Duration
	for i := range n {
		start := time.Now()
		rows, err := pool.Query(ctx, sql)
		if err != nil {
			return 0, "", err
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return 0, "", err
		}
		if d := time.Since(start); i == 0 || d < best {
			best = d
		}
	}
	var plan []string
	rows, err := pool.Query(ctx, "EXPLAIN (COSTS OFF) "+sql)
	if err != nil {
		return 0, "", err
	}
	defer rows.Close()
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return 0, "", err
		}
		line = strings.TrimLeft(strings.TrimSpace(line), "-> ")
		if strings.Contains(line, "Scan") && strings.Contains(line, "storage_copy") {
			plan = append(plan, strings.SplitN(line, " on ", 2)[0])
		}
	}
	return best, strings.Join(plan, ", "), rows.Err()
}
