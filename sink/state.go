package sink

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// The state upserts write only rows of connections that still exist (the
// state tables reference public.connections and follow a removed one) and
// never move a timestamp backwards, so a batch replayed late cannot undo
// newer state.
const (
	ledgerSQL = `
INSERT INTO public.ingest_ledger (batch_id, part, collected_at)
SELECT * FROM unnest($1::text[], $2::int[], $3::timestamptz[])`

	successSQL = `
INSERT INTO public.probe_state AS s (connection_id, database_name, probe, last_success)
SELECT k.c, k.d, k.p, k.t FROM unnest($1::bigint[], $2::text[], $3::text[], $4::timestamptz[]) AS k(c, d, p, t)
WHERE EXISTS (SELECT 1 FROM public.connections WHERE id = k.c)
ON CONFLICT (connection_id, database_name, probe) DO UPDATE SET last_success = EXCLUDED.last_success
WHERE s.last_success IS NULL OR s.last_success < EXCLUDED.last_success`

	failureSQL = `
INSERT INTO public.probe_state AS s (connection_id, database_name, probe, last_error, last_error_at)
SELECT k.c, k.d, k.p, k.e, k.t
FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::timestamptz[]) AS k(c, d, p, e, t)
WHERE EXISTS (SELECT 1 FROM public.connections WHERE id = k.c)
ON CONFLICT (connection_id, database_name, probe) DO UPDATE
SET last_error = EXCLUDED.last_error, last_error_at = EXCLUDED.last_error_at
WHERE s.last_error_at IS NULL OR s.last_error_at < EXCLUDED.last_error_at`

	availabilitySQL = `
INSERT INTO public.probe_availability AS a (connection_id, database_name, probe, available, reason, last_checked)
SELECT k.c, k.d, k.p, k.a, k.r, k.t
FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bool[], $5::text[], $6::timestamptz[]) AS k(c, d, p, a, r, t)
WHERE EXISTS (SELECT 1 FROM public.connections WHERE id = k.c)
ON CONFLICT (connection_id, database_name, probe) DO UPDATE
SET available = EXCLUDED.available, reason = EXCLUDED.reason, last_checked = EXCLUDED.last_checked
WHERE a.last_checked <= EXCLUDED.last_checked`

	snapshotSQL = `
INSERT INTO public.snapshot_state AS s (connection_id, database_name, probe, hash, collected_at)
SELECT k.c, k.d, k.p, k.h, k.t
FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::timestamptz[]) AS k(c, d, p, h, t)
WHERE EXISTS (SELECT 1 FROM public.connections WHERE id = k.c)
ON CONFLICT (connection_id, database_name, probe) DO UPDATE
SET hash = EXCLUDED.hash, collected_at = EXCLUDED.collected_at
WHERE s.collected_at < EXCLUDED.collected_at`
)

// writeState records the ledger and the per-probe state of a plan in one
// round trip. Rows are sorted so that concurrent sinks lock them in the
// same order and do not deadlock.
func writeState(ctx context.Context, tx pgx.Tx, p *plan) error {
	batch := &pgx.Batch{}
	if len(p.ledger) > 0 {
		slices.SortFunc(p.ledger, func(a, b *item) int {
			return cmp.Or(cmp.Compare(a.b.ID, b.b.ID), cmp.Compare(a.b.Part, b.b.Part))
		})
		ids, parts, times := make([]string, len(p.ledger)), make([]int32, len(p.ledger)), make([]time.Time, len(p.ledger))
		for i, it := range p.ledger {
			ids[i], parts[i], times[i] = it.b.ID, int32(it.b.Part), at(it.b)
		}
		batch.Queue(ledgerSQL, ids, parts, times)
	}
	if keys := sortedKeys(p.success); len(keys) > 0 {
		c, d, pr := keyColumns(keys)
		batch.Queue(successSQL, c, d, pr, column(keys, p.success, func(t time.Time) time.Time { return t }))
	}
	if keys := sortedKeys(p.failures); len(keys) > 0 {
		c, d, pr := keyColumns(keys)
		batch.Queue(failureSQL, c, d, pr,
			column(keys, p.failures, func(f failure) string { return f.reason }),
			column(keys, p.failures, func(f failure) time.Time { return f.at }))
	}
	if keys := sortedKeys(p.avail); len(keys) > 0 {
		c, d, pr := keyColumns(keys)
		batch.Queue(availabilitySQL, c, d, pr,
			column(keys, p.avail, func(a availability) bool { return a.available }),
			column(keys, p.avail, func(a availability) *string { return a.reason }),
			column(keys, p.avail, func(a availability) time.Time { return a.at }))
	}
	if keys := sortedKeys(p.snapshots); len(keys) > 0 {
		c, d, pr := keyColumns(keys)
		batch.Queue(snapshotSQL, c, d, pr,
			column(keys, p.snapshots, func(s snapshot) string { return s.hash }),
			column(keys, p.snapshots, func(s snapshot) time.Time { return s.at }))
	}
	queueConnectionErrors(batch, p)
	if batch.Len() == 0 {
		return nil
	}
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		return fmt.Errorf("record ingest ledger and probe state: %w", err)
	}
	return nil
}

func sortedKeys[V any](m map[stateKey]V) []stateKey {
	keys := make([]stateKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b stateKey) int {
		return cmp.Or(cmp.Compare(a.conn, b.conn), cmp.Compare(a.db, b.db), cmp.Compare(a.probe, b.probe))
	})
	return keys
}

// keyColumns splits keys into the three key arrays of an unnest.
func keyColumns(keys []stateKey) (conns []int64, dbs, probes []string) {
	conns, dbs, probes = make([]int64, len(keys)), make([]string, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		conns[i], dbs[i], probes[i] = k.conn, k.db, k.probe
	}
	return conns, dbs, probes
}

// column extracts one array argument of an unnest, in key order.
func column[V, T any](keys []stateKey, m map[stateKey]V, f func(V) T) []T {
	out := make([]T, len(keys))
	for i, k := range keys {
		out[i] = f(m[k])
	}
	return out
}
