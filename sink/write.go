package sink

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgcollector/pgcollector/bus"
	"github.com/pgcollector/pgcollector/internal/partition"
	"github.com/pgcollector/pgcollector/internal/store"
)

// written counts what one committed write did.
type written struct {
	batches, rows, statuses, duplicates, unchanged int64
	skipped, tombstones, cacheHits, cacheMisses    int64 // dedup.go
}

// nextWeekLead is how long before a new week the sink creates its
// partition, so that the first flush of the week does not wait on DDL.
const nextWeekLead = 24 * time.Hour

// write stores items in one transaction and returns what it did once the
// transaction has committed. Nothing is acknowledged here.
func (s *Sink) write(ctx context.Context, items []*item) (written, error) {
	if err := s.ensurePartitions(ctx, items); err != nil {
		return written{}, err
	}
	var w written
	var dw *dedupWork
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		ledger, snaps, err := readState(ctx, tx, items)
		if err != nil {
			return err
		}
		s.replay.beforePlan(ledger)
		p := makePlan(items, ledger, snaps)
		if err := s.replay.afterPlan(ctx, tx, p); err != nil {
			return err
		}
		w = written{
			batches:    int64(len(p.ledger) - p.unchanged),
			statuses:   int64(p.statuses),
			duplicates: int64(p.duplicates),
			unchanged:  int64(p.unchanged),
		}
		if s.dedup != nil && !s.replay.forced() {
			if dw, err = s.dedup.apply(ctx, tx, p); err != nil {
				return err
			}
			if dw != nil {
				w.skipped, w.tombstones = dw.skipped, dw.tombs
				w.cacheHits, w.cacheMisses = dw.hits, dw.misses
			}
		}
		if w.rows, err = copyGroups(ctx, tx, p.groups); err != nil {
			return err
		}
		return writeState(ctx, tx, p)
	})
	if err != nil {
		// The checked-out states may hold what was rolled back: they are
		// not put back, and the next write reads the committed ones.
		return written{}, err
	}
	if dw != nil {
		s.dedup.cache.checkin(dw.states, dw.hits, dw.misses)
	}
	return w, nil
}

// ensurePartitions makes sure every week the items touch has its
// partition, and near the end of a week also the next one.
func (s *Sink) ensurePartitions(ctx context.Context, items []*item) error {
	type week struct {
		probe string
		name  string
	}
	done := map[week]bool{}
	ensure := func(probe string, t time.Time) error {
		w := week{probe, partition.Name(probe, t)}
		if done[w] {
			return nil
		}
		done[w] = true
		return s.parts.Ensure(ctx, probe, t)
	}
	soon := time.Now().Add(nextWeekLead)
	for _, it := range items {
		if it.b.Kind != bus.KindRows || len(it.b.Data) == 0 {
			continue
		}
		if err := ensure(it.b.Probe, it.b.CollectedAt); err != nil {
			return err
		}
		if err := ensure(it.b.Probe, soon); err != nil {
			return err
		}
	}
	return nil
}

// readState reads the ledger rows of the items' batch ids and the last
// snapshots of their change-tracked keys, in one round trip.
func readState(ctx context.Context, tx pgx.Tx, items []*item) (map[string]*recorded, map[stateKey]snapshot, error) {
	var ids []string
	var conns []int64
	var dbs, probes []string
	seen := map[string]bool{}
	for _, it := range items {
		b := it.b
		if b.Kind != bus.KindRows {
			continue
		}
		if !seen[b.ID] {
			seen[b.ID] = true
			ids = append(ids, b.ID)
		}
		if b.Hash != "" {
			conns, dbs, probes = append(conns, b.ConnectionID), append(dbs, b.Database), append(probes, b.Probe)
		}
	}
	ledger := map[string]*recorded{}
	snaps := map[stateKey]snapshot{}
	if len(ids) == 0 {
		return ledger, snaps, nil
	}
	batch := &pgx.Batch{}
	batch.Queue(`SELECT batch_id, part, collected_at FROM public.ingest_ledger WHERE batch_id = ANY($1)`, ids).
		Query(func(rows pgx.Rows) error {
			var id string
			var part int
			var t time.Time
			_, err := pgx.ForEachRow(rows, []any{&id, &part, &t}, func() error {
				r := ledger[id]
				if r == nil {
					// All parts of an id share one collection time; the
					// first row read stands for them.
					r = &recorded{at: t.UTC(), parts: map[int]bool{}}
					ledger[id] = r
				}
				r.parts[part] = true
				return nil
			})
			return err
		})
	if len(conns) > 0 {
		batch.Queue(`
SELECT s.connection_id, s.database_name, s.probe, s.hash, s.collected_at
FROM public.snapshot_state s
JOIN unnest($1::bigint[], $2::text[], $3::text[]) AS k(c, d, p)
  ON s.connection_id = k.c AND s.database_name = k.d AND s.probe = k.p`, conns, dbs, probes).
			Query(func(rows pgx.Rows) error {
				var k stateKey
				var sn snapshot
				_, err := pgx.ForEachRow(rows, []any{&k.conn, &k.db, &k.probe, &sn.hash, &sn.at}, func() error {
					sn.at = sn.at.UTC()
					snaps[k] = sn
					return nil
				})
				return err
			})
	}
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		return nil, nil, fmt.Errorf("read ingest ledger and snapshots: %w", err)
	}
	return ledger, snaps, nil
}

// newline ends a part whose data lacks a final newline, so that the next
// part's first row does not run into its last one.
var newline = []byte{'\n'}

// copyGroups streams each group's data into its table with one COPY, the
// bytes exactly as the fetcher published them. It returns the rows stored.
func copyGroups(ctx context.Context, tx pgx.Tx, groups map[string][]*item) (int64, error) {
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var rows int64
	for _, k := range keys {
		group := groups[k]
		readers := make([]io.Reader, 0, len(group))
		for _, it := range group {
			d := it.copyData()
			if len(d) == 0 {
				continue
			}
			readers = append(readers, bytes.NewReader(d))
			if d[len(d)-1] != '\n' {
				readers = append(readers, bytes.NewReader(newline))
			}
		}
		if len(readers) == 0 {
			continue
		}
		first := group[0].b
		sql := copySQL(first.Probe, first.Columns)
		tag, err := tx.Conn().PgConn().CopyFrom(ctx, io.MultiReader(readers...), sql)
		if err != nil {
			return 0, fmt.Errorf("copy into %s: %w", store.Table(first.Probe), err)
		}
		rows += tag.RowsAffected()
	}
	return rows, nil
}

// copySQL is the COPY statement for a batch's table and columns, every
// identifier quoted.
func copySQL(probe string, columns []string) string {
	quoted := make([]string, len(columns))
	for i, c := range columns {
		quoted[i] = pgx.Identifier{c}.Sanitize()
	}
	return "COPY " + store.Table(probe) + " (" + strings.Join(quoted, ", ") + ") FROM STDIN"
}
