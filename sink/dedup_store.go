package sink

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgcollector/pgcollector/internal/store"
)

const (
	// dedupLockSQL makes sure every chain of the write has a state row to
	// lock (only for connections that exist: the row references them).
	dedupLockSQL = `
INSERT INTO public.dedup_state (connection_id, database_name, probe)
SELECT k.c, k.d, k.p FROM unnest($1::bigint[], $2::text[], $3::text[]) AS k(c, d, p)
WHERE EXISTS (SELECT 1 FROM public.connections WHERE id = k.c)
ON CONFLICT DO NOTHING`

	// dedupReadSQL locks the state rows in key order and returns their
	// objects only where the cached collected_at ($4) does not match.
	dedupReadSQL = `
SELECT s.connection_id, s.database_name, s.probe, s.collected_at, s.keyframe_at,
       CASE WHEN s.collected_at = k.cached THEN NULL ELSE s.keys END, s.collected_at = k.cached
FROM public.dedup_state s
JOIN unnest($1::bigint[], $2::text[], $3::text[], $4::timestamptz[]) AS k(c, d, p, cached)
  ON s.connection_id = k.c AND s.database_name = k.d AND s.probe = k.p
ORDER BY 1, 2, 3
FOR UPDATE OF s`

	dedupWriteSQL = `
UPDATE public.dedup_state s SET collected_at = k.t, keyframe_at = k.kf, keys = k.keys
FROM unnest($1::bigint[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::bytea[])
  AS k(c, d, p, t, kf, keys)
WHERE s.connection_id = k.c AND s.database_name = k.d AND s.probe = k.p`
)

// apply deduplicates the keyed items of a plan inside the write's
// transaction: it locks and reads their chains' state, decides each item,
// stores the markers and tombstones, and writes the state back. The
// states it returns go back into the cache once the transaction commits.
func (d *deduper) apply(ctx context.Context, tx pgx.Tx, p *plan) (*dedupWork, error) {
	items := d.candidates(p)
	if len(items) == 0 {
		return nil, nil
	}
	for _, it := range items {
		// A retried write decides afresh. The rows kept by a failed
		// attempt are left to the garbage collector: pgx may return from
		// a broken COPY before its reader has stopped. An owned item is
		// decoded again, since it may have been filtered in place.
		if it.tried && it.owned() {
			if err := it.redecode(); err != nil {
				return nil, err
			}
		}
		it.data, it.filtered, it.tried = nil, false, true
	}
	w := &dedupWork{states: map[stateKey]*runState{}, changed: map[stateKey]bool{}, extras: map[string]*extraRows{}}
	var keys []stateKey
	for _, it := range items {
		k := key(it.b)
		if _, ok := w.states[k]; !ok {
			w.states[k] = d.cache.checkout(k)
			keys = append(keys, k)
		}
	}
	if err := d.lock(ctx, tx, keys, w); err != nil {
		return w, err
	}
	for _, it := range items {
		d.decide(it, w.states[key(it.b)], w)
	}
	names := make([]string, 0, len(w.extras))
	for name := range w.extras {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		ex := w.extras[name]
		sql := copySQL(name, ex.columns)
		if _, err := tx.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(ex.buf), sql); err != nil {
			return w, fmt.Errorf("copy markers into %s: %w", store.Table(name), err)
		}
	}
	return w, d.save(ctx, tx, w)
}

// lock reads the state rows FOR UPDATE. A cached state is kept when its
// collected_at is the row's; otherwise the row's objects replace it. A key
// without a row (its connection is gone) gets a nil state: full runs.
func (d *deduper) lock(ctx context.Context, tx pgx.Tx, keys []stateKey, w *dedupWork) error {
	n := len(keys)
	conns, dbs, prs, cached := make([]int64, n), make([]string, n), make([]string, n), make([]*time.Time, n)
	for i, k := range keys {
		conns[i], dbs[i], prs[i] = k.conn, k.db, k.probe
		if st := w.states[k]; st != nil && !st.at.IsZero() {
			t := st.at
			cached[i] = &t
		}
	}
	found := map[stateKey]bool{}
	batch := &pgx.Batch{}
	batch.Queue(dedupLockSQL, conns, dbs, prs)
	batch.Queue(dedupReadSQL, conns, dbs, prs, cached).Query(func(rows pgx.Rows) error {
		var k stateKey
		var t, kf *time.Time
		var blob []byte
		var hit *bool
		_, err := pgx.ForEachRow(rows, []any{&k.conn, &k.db, &k.probe, &t, &kf, &blob, &hit}, func() error {
			found[k] = true
			if hit != nil && *hit {
				w.hits++
				return nil // the cached state is the committed one
			}
			w.misses++
			st := &runState{}
			if t != nil && kf != nil {
				switch err := st.decodeObjects(blob); {
				case errors.Is(err, errKeyCollision):
					*st = runState{} // a new chain: its first run is a keyframe
				case err != nil:
					return err
				default:
					st.at, st.keyframeAt = t.UTC(), kf.UTC()
				}
			}
			w.states[k] = st
			return nil
		})
		return err
	})
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		return fmt.Errorf("lock dedup state: %w", err)
	}
	for _, k := range keys {
		if !found[k] {
			w.states[k] = nil
		}
	}
	return nil
}

// save writes the changed states back.
func (d *deduper) save(ctx context.Context, tx pgx.Tx, w *dedupWork) error {
	keys := make([]stateKey, 0, len(w.changed))
	for k := range w.changed {
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil
	}
	slices.SortFunc(keys, func(a, b stateKey) int {
		return cmp.Or(cmp.Compare(a.conn, b.conn), cmp.Compare(a.db, b.db), cmp.Compare(a.probe, b.probe))
	})
	n := len(keys)
	conns, dbs, prs := make([]int64, n), make([]string, n), make([]string, n)
	ts, kfs, blobs := make([]*time.Time, n), make([]*time.Time, n), make([][]byte, n)
	for i, k := range keys {
		conns[i], dbs[i], prs[i] = k.conn, k.db, k.probe
		if st := w.states[k]; st != nil && !st.at.IsZero() {
			t, kf := st.at, st.keyframeAt
			ts[i], kfs[i], blobs[i] = &t, &kf, st.encoded()
		}
	}
	if _, err := tx.Exec(ctx, dedupWriteSQL, conns, dbs, prs, ts, kfs, blobs); err != nil {
		return fmt.Errorf("write dedup state: %w", err)
	}
	return nil
}
