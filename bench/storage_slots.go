package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// partialSlotsSQL counts the slots of database-scoped probes that some but
// not all of their databases have stored yet, from the ingest ledger
// ("<connection>.<probe>.<slot>.<database>"). A burst runs the databases
// one after another, so the newest slot is often stored in part.
const partialSlotsSQL = `
WITH l AS (
  SELECT m[1] AS conn, m[2] AS probe, m[3] AS slot, m[4] AS db
  FROM public.ingest_ledger, regexp_match(batch_id, '^([0-9]+)\.([^.]+)\.([0-9]+)\.(.+)$') AS m
  WHERE batch_id NOT LIKE '%!status'
), per AS (
  SELECT conn, probe, count(DISTINCT db) AS dbs FROM l GROUP BY conn, probe
)
SELECT count(*) FROM (
  SELECT l.conn, l.probe, l.slot, count(DISTINCT l.db) AS n, min(per.dbs) AS want
  FROM l JOIN per USING (conn, probe) GROUP BY l.conn, l.probe, l.slot
) s WHERE n < want`

// awaitWholeSlots waits, polling every second for up to three intervals,
// until no slot of a database-scoped probe is stored in part in any
// collector's datastore. The sizes are read then: a run counts once any
// of its batches is in the ledger, so a slot cut short would count its
// run without the rows of its later databases (keyframes, when the last
// slot is the window's full run).
func awaitWholeSlots(ctx context.Context, pools []*pgxpool.Pool, interval time.Duration, say func(string, ...any)) error {
	deadline := time.Now().Add(3 * interval)
	for {
		partial := 0
		for _, pool := range pools {
			n, err := partialSlots(ctx, pool)
			if err != nil {
				return err
			}
			partial += n
		}
		if partial == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			say("storage: %d slot(s) of database probes still stored in part after %s; reading sizes anyway", partial, 3*interval)
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// partialSlots is the number of slots of database-scoped probes that some
// but not all of their databases have stored in pool's datastore. A
// database counts once any part of its batch is recorded: the ledger does
// not know how many parts a batch has.
func partialSlots(ctx context.Context, pool *pgxpool.Pool) (int, error) {
	var n int
	if err := pool.QueryRow(ctx, partialSlotsSQL).Scan(&n); err != nil {
		return 0, fmt.Errorf("slots stored in part: %w", err)
	}
	return n, nil
}
