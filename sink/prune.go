package sink

import (
	"context"
	"time"
)

const (
	// pruneEvery is how often the ledger is pruned, by each sink.
	pruneEvery = time.Hour
	// pruneFirst delays the first pruning after start, so a restart loop
	// does not prune on every start, yet a sink restarted more often than
	// hourly still prunes now and then.
	pruneFirst = time.Minute
	// pruneChunk is the rows deleted per statement: short transactions
	// that do not hold up the sinks' ledger inserts or bloat the WAL in
	// one burst.
	pruneChunk = 5000
)

const pruneSQL = `
DELETE FROM public.ingest_ledger
WHERE ctid = ANY (ARRAY(
    SELECT ctid FROM public.ingest_ledger WHERE ingested_at < $1 LIMIT $2))`

// pruneLedger deletes ledger rows older than LedgerRetention, hourly,
// until ctx is cancelled. Failures are logged and retried next time: an
// unpruned ledger only grows.
func (s *Sink) pruneLedger(ctx context.Context) {
	t := time.NewTimer(pruneFirst)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n, err := s.pruneOnce(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.Warn("prune ingest ledger", "err", err, "deleted", n)
		case n > 0:
			s.log.Debug("pruned ingest ledger", "deleted", n, "older_than", s.cfg.LedgerRetention)
		}
		t.Reset(pruneEvery)
	}
}

// pruneOnce deletes every expired ledger row, a chunk at a time, and
// returns how many it deleted.
func (s *Sink) pruneOnce(ctx context.Context) (int64, error) {
	cutoff := time.Now().Add(-s.cfg.LedgerRetention)
	var total int64
	for {
		tag, err := s.pool.Exec(ctx, pruneSQL, cutoff, pruneChunk)
		if err != nil {
			return total, err
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < pruneChunk {
			return total, nil
		}
	}
}
