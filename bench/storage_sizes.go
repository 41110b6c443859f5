package bench

import (
	"context"
	"fmt"

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
	Runs            int64   // runs of the probe on the server, from the ingest ledger
	RowsPerRun      float64 // per run on the whole server (all its databases), first run left out
	Heap, Toast     int64   // main fork; TOAST table with its index
	Index, Total    int64   // pg_indexes_size; pg_total_relation_size
	BytesPerRow     float64 // Total / Rows, or Estimated
	Estimated       bool    // too few rows to fill pages: estimated from the rows' width
	// Unchanged is the share of the rows of a run (the first left out)
	// equal in every column but collected_at to a row of the run before
	// in the same database: what change-only storage would not store
	// again. -1 when not measured (too few rows).
	Unchanged   float64
	RowsPerDay  float64
	BytesPerDay float64
}

// ReadProbeStorage reads every probe's partitions: sizes from the catalog
// and rows per run from the rows. A run is one slot of the probe on the
// server (all its databases), counted from the ingest ledger, which has a
// row for every batch the sink stored, rows or none. The first run is left
// out of the rows per run: it stores every object in full, whatever
// change-only storage (change-tracked probes, PGC_SINK_DEDUP) leaves out
// of the runs after it.
func ReadProbeStorage(ctx context.Context, pool *pgxpool.Pool) ([]ProbeStorage, error) {
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
		var runKeys, dbs, first, slots int64
		err = pool.QueryRow(ctx, fmt.Sprintf(`
SELECT count(*), count(DISTINCT (%[1]s, collected_at)), count(DISTINCT %[1]s),
       count(*) FILTER (WHERE (%[1]s, collected_at) IN (SELECT %[1]s, min(collected_at) FROM %[2]s GROUP BY 1)),
       (SELECT count(DISTINCT split_part(batch_id, '.', 3)) FROM public.ingest_ledger
        WHERE batch_id LIKE $1 AND batch_id NOT LIKE '%%!status')
FROM %[2]s`, db, store.Table(p.Name)), "%."+p.Name+".%").Scan(&s.Rows, &runKeys, &dbs, &first, &slots)
		if err != nil {
			return nil, fmt.Errorf("rows of %s: %w", p.Name, err)
		}
		s.Runs = slots
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
			switch {
			case slots > 1:
				s.RowsPerRun = float64(s.Rows-first) / float64(slots-1)
			default:
				s.RowsPerRun = float64(s.Rows) * float64(dbs) / float64(runKeys)
			}
		}
		s.Unchanged = -1
		if s.Rows >= layoutMinRows && !p.ChangeTracked {
			if s.Unchanged, err = unchangedShare(ctx, pool, p, db); err != nil {
				return nil, fmt.Errorf("unchanged rows of %s: %w", p.Name, err)
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

// unchangedShare compares each run's rows with the run before in the same
// database (db is the database column, or ” for server probes), whole
// rows but collected_at, through a hash of their JSON form.
func unchangedShare(ctx context.Context, pool *pgxpool.Pool, p probes.Probe, db string) (float64, error) {
	var share float64
	err := pool.QueryRow(ctx, fmt.Sprintf(`
WITH r AS (
    SELECT %[1]s AS db, dense_rank() OVER (PARTITION BY %[1]s ORDER BY collected_at) AS run,
           md5((to_jsonb(t) - 'collected_at')::text) AS h
    FROM %[2]s t),
later AS (SELECT * FROM r WHERE run > 1)
SELECT coalesce((SELECT count(*) FROM later a WHERE EXISTS (
           SELECT 1 FROM r b WHERE b.db = a.db AND b.run = a.run - 1 AND b.h = a.h))::float8
       / nullif((SELECT count(*) FROM later), 0), 0)`, db, store.Table(p.Name))).Scan(&share)
	return share, err
}

// ChangeOnlyEstimate is what the probe would cost per server-day if the
// rows unchanged since the run before were not stored, except in one run
// of every fullEvery seconds, which stores every row.
func (s ProbeStorage) ChangeOnlyEstimate(fullEvery float64) float64 {
	if s.Unchanged < 0 {
		return s.BytesPerDay
	}
	full := min(1, float64(s.DefaultInterval)/fullEvery)
	return s.BytesPerDay * ((1 - s.Unchanged) + s.Unchanged*full)
}
