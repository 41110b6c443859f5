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

// ProbeStorage is what one probe's rows take in the datastore, and what
// that comes to per day at the catalogue's default interval.
type ProbeStorage struct {
	Probe           string
	DefaultInterval int // IntervalSeconds of the catalogue
	ChangeTracked   bool
	Rows            int64
	RowsPerRun      float64 // per run on the whole server (all its databases)
	Heap, Toast     int64   // main fork; TOAST table with its index
	Index, Total    int64   // pg_indexes_size; pg_total_relation_size
	BytesPerRow     float64 // Total / Rows, or Estimated
	Estimated       bool    // too few rows to fill pages: estimated from the rows' width
	RowsPerDay      float64
	BytesPerDay     float64
}

// ReadProbeStorage reads every probe's partitions: sizes from the catalog
// and rows per run from the rows. A run is one collected_at of one
// database. Change-tracked probes store a snapshot only when it changed,
// so their rows per run leave the first snapshot out and spread the rest
// over the runs of pg_stat_all_tables.
func ReadProbeStorage(ctx context.Context, pool *pgxpool.Pool) ([]ProbeStorage, error) {
	var refRuns float64
	if err := pool.QueryRow(ctx, `SELECT coalesce(avg(n), 0)::float8 FROM (SELECT count(DISTINCT collected_at) AS n
FROM metrics.pg_stat_all_tables GROUP BY database_name) s`).Scan(&refRuns); err != nil {
		return nil, fmt.Errorf("count runs: %w", err)
	}
	var out []ProbeStorage
	for _, p := range probes.All {
		s := ProbeStorage{Probe: p.Name, DefaultInterval: p.IntervalSeconds, ChangeTracked: p.ChangeTracked}
		err := pool.QueryRow(ctx, `
SELECT coalesce(sum(pg_relation_size(c.oid)), 0)::bigint,
       coalesce(sum(pg_total_relation_size(c.reltoastrelid)) FILTER (WHERE c.reltoastrelid <> 0), 0)::bigint,
       coalesce(sum(pg_indexes_size(c.oid)), 0)::bigint,
       coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint
FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = $1::regclass`, store.Table(p.Name)).Scan(&s.Heap, &s.Toast, &s.Index, &s.Total)
		if err != nil {
			return nil, fmt.Errorf("sizes of %s: %w", p.Name, err)
		}
		db := "''::text"
		if p.Scope == probes.ScopeDatabase {
			db = "database_name"
		}
		var runKeys, dbs, first int64
		err = pool.QueryRow(ctx, fmt.Sprintf(`
SELECT count(*), count(DISTINCT (%[1]s, collected_at)), count(DISTINCT %[1]s),
       count(*) FILTER (WHERE (%[1]s, collected_at) IN (SELECT %[1]s, min(collected_at) FROM %[2]s GROUP BY 1))
FROM %[2]s`, db, store.Table(p.Name))).Scan(&s.Rows, &runKeys, &dbs, &first)
		if err != nil {
			return nil, fmt.Errorf("rows of %s: %w", p.Name, err)
		}
		if s.Rows > 0 {
			s.BytesPerRow = float64(s.Total) / float64(s.Rows)
			if s.Heap < minMeasuredHeap {
				var width float64
				if err := pool.QueryRow(ctx, "SELECT avg(pg_column_size(t.*))::float8 FROM "+store.Table(p.Name)+" t").
					Scan(&width); err != nil {
					return nil, fmt.Errorf("row width of %s: %w", p.Name, err)
				}
				s.BytesPerRow, s.Estimated = estimatedRowBytes(width), true
			}
			s.RowsPerRun = float64(s.Rows) * float64(dbs) / float64(runKeys)
			if p.ChangeTracked {
				s.RowsPerRun = float64(s.Rows-first) / max(1, refRuns-1)
			}
		}
		s.RowsPerDay = s.RowsPerRun * 86400 / float64(p.IntervalSeconds)
		s.BytesPerDay = s.RowsPerDay * s.BytesPerRow
		out = append(out, s)
	}
	return out, nil
}

// minMeasuredHeap is the heap below which a probe's bytes per row are
// estimated rather than divided out: a partition of a few rows still takes
// whole pages, its free space map and visibility map (24 kB for one row).
const minMeasuredHeap = 64 * 8192

// estimatedRowBytes is what one more row of the given pg_column_size
// costs in full pages: the heap tuple, its 4-byte line pointer and 8-byte
// alignment, and the entry of the btree on (connection_id, collected_at)
// at btree's 90 % leaf fill. Page headers add 24 of 8,192 bytes.
func estimatedRowBytes(width float64) float64 {
	heap := (float64((int(width)+7)/8*8) + 4) * 8192 / 8168
	entry := 8.0 + 4 + 8 + 4 // index tuple header, integer, timestamptz, line pointer
	return heap + entry/0.9
}

// IndexCompare is the product's btree on (connection_id, collected_at
// DESC) against a BRIN on collected_at, both built on the same copy of
// pg_stat_all_tables: size, and the time of a typical query with only one
// of them present.
type IndexCompare struct {
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

// indexQueries are what dashboards ask of the per-table rows: one table's
// recent series, and the top tables by sequential scans in a window.
var indexQueries = []struct{ name, sql string }{
	{"one table, last 15 min", `SELECT collected_at, seq_scan, n_tup_ins FROM storage_copy
WHERE connection_id = 1 AND collected_at >= (SELECT max(collected_at) FROM storage_copy) - interval '15 min'
  AND database_name = 'app1' AND relname = 't1' ORDER BY collected_at`},
	{"top 10 tables by seq_scan, last 15 min", `SELECT database_name, relname, max(seq_scan) - min(seq_scan) AS d
FROM storage_copy WHERE connection_id = 1
  AND collected_at >= (SELECT max(collected_at) FROM storage_copy) - interval '15 min'
GROUP BY 1, 2 ORDER BY d DESC NULLS LAST LIMIT 10`},
}

// CompareIndexes copies the last run of every database of
// pg_stat_all_tables runs times, 300 s apart (the default interval), into
// a plain table in collected_at order, as the sink appends them.
func CompareIndexes(ctx context.Context, pool *pgxpool.Pool, runs int) (IndexCompare, error) {
	r := IndexCompare{Relation: "pg_stat_all_tables",
		WindowNote: fmt.Sprintf("%d runs at 300 s (%s)", runs, time.Duration(runs)*300*time.Second)}
	p, err := probes.ByName("pg_stat_all_tables")
	if err != nil {
		return r, err
	}
	var cols []string
	for _, c := range p.StoredColumns() {
		if c.Name == "collected_at" {
			cols = append(cols, "t.collected_at - (g * interval '300 s')")
			continue
		}
		cols = append(cols, "t."+c.Name)
	}
	setup := []string{
		"DROP TABLE IF EXISTS storage_copy",
		"CREATE TABLE storage_copy (LIKE metrics.pg_stat_all_tables)",
		fmt.Sprintf(`INSERT INTO storage_copy SELECT %s
FROM generate_series(%d, 0, -1) g, metrics.pg_stat_all_tables t
WHERE (t.database_name, t.collected_at) IN (SELECT database_name, max(collected_at) FROM metrics.pg_stat_all_tables GROUP BY 1)
ORDER BY g DESC, t.collected_at`, strings.Join(cols, ", "), runs-1),
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
			best, plan, err := bestOf(ctx, pool, q.sql, 5)
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
