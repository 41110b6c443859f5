package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgcollector/pgcollector/internal/store"
	"github.com/pgcollector/pgcollector/probes"
)

// RowsCollected counts the rows collected of every probe whose
// collected_at lies in [from, to): the rows stored, and for a per-object
// probe stored change-only (PGC_SINK_DEDUP) the rows its series function
// gives back, which are the rows the fetchers collected, unchanged ones
// included. CPU per row stays per collected row whether dedup is on or
// off.
//
// Rebuilding a series is a scan from the keyframe before the window, and
// on a datastore that is hours behind (a fleet larger than it can store)
// it can take longer than the whole phase. Each count gets countTimeout;
// a per-object probe whose count runs out takes the collector's own
// count for the window (collected, from pgcollector_rows_collected_total)
// and is named in fromMetric, so that the report says so.
func RowsCollected(ctx context.Context, pool *pgxpool.Pool, from, to time.Time, collected map[string]int64) (
	byProbe map[string]int64, total int64, fromMetric []string, err error) {
	byProbe = map[string]int64{}
	for _, p := range probes.All {
		src := store.Table(p.Name)
		if len(p.Key) > 0 {
			src = store.SeriesFunction(p.Name) + "($1, $2)"
		}
		var n int64
		qctx, cancel := context.WithTimeout(ctx, countTimeout)
		err := pool.QueryRow(qctx, "SELECT count(*) FROM "+src+
			" WHERE collected_at >= $1 AND collected_at < $2", from, to).Scan(&n)
		timedOut := qctx.Err() != nil && ctx.Err() == nil
		cancel()
		switch {
		case err != nil && timedOut && len(p.Key) > 0 && collected != nil:
			n = collected[p.Name]
			fromMetric = append(fromMetric, p.Name)
		case err != nil:
			return nil, 0, nil, fmt.Errorf("count %s: %w", p.Name, err)
		}
		byProbe[p.Name] = n
		total += n
	}
	return byProbe, total, fromMetric, nil
}

// countTimeout bounds one count of RowsCollected.
const countTimeout = 90 * time.Second

// RowsCommitted counts the collected rows stored by transactions that
// committed in [from, to], looking only at rows collected since
// collectedSince (the datastore keeps commit timestamps:
// track_commit_timestamp = on). Marker rows and tombstones of change-only
// storage are left out; the rows it left out as unchanged are not in the
// tables and come from the sink's counter (see MeasureDrain).
func RowsCommitted(ctx context.Context, pool *pgxpool.Pool, collectedSince, from, to time.Time) (int64, error) {
	var total int64
	for _, p := range probes.All {
		cond := ""
		if len(p.Key) > 0 {
			cond = " AND " + store.SampleKind + " IS NULL"
		}
		var n int64
		err := pool.QueryRow(ctx, "SELECT count(*) FROM "+store.Table(p.Name)+
			" WHERE collected_at >= $1 AND pg_xact_commit_timestamp(xmin) BETWEEN $2 AND $3"+cond,
			collectedSince, from, to).Scan(&n)
		if err != nil {
			return 0, fmt.Errorf("count %s: %w", p.Name, err)
		}
		total += n
	}
	return total, nil
}

// Lag is the ingest lag of the batch parts collected in a window: from the
// collected_at the fetcher stamped (before it ran the probe) to the commit
// of the sink transaction that stored them, which also wrote their ingest
// ledger rows; the commit time is the datastore's commit timestamp of
// those rows.
type Lag struct {
	Batches       int64
	P50, P99, Max time.Duration
	// The same split at the start of the sink's transaction (ingest_ledger
	// ingested_at is its now()): before covers session wait, the probe's
	// query, the bus and the sink's accumulation; write is the transaction.
	BeforeP50, BeforeP99, WriteP50, WriteP99 time.Duration
}

// IngestLag reads the lag of ledger rows collected in [from, to).
func IngestLag(ctx context.Context, pool *pgxpool.Pool, from, to time.Time) (Lag, error) {
	var l Lag
	var f [7]float64
	err := pool.QueryRow(ctx, `
SELECT count(*),
       coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY lag), 0),
       coalesce(percentile_cont(0.99) WITHIN GROUP (ORDER BY lag), 0), coalesce(max(lag), 0),
       coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY before), 0),
       coalesce(percentile_cont(0.99) WITHIN GROUP (ORDER BY before), 0),
       coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY lag - before), 0),
       coalesce(percentile_cont(0.99) WITHIN GROUP (ORDER BY lag - before), 0)
FROM (SELECT extract(epoch FROM pg_xact_commit_timestamp(xmin) - collected_at)::float8 AS lag,
             extract(epoch FROM ingested_at - collected_at)::float8 AS before
      FROM public.ingest_ledger WHERE collected_at >= $1 AND collected_at < $2) s`, from, to).
		Scan(&l.Batches, &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6])
	if err != nil {
		return Lag{}, fmt.Errorf("ingest lag: %w", err)
	}
	sec := func(v float64) time.Duration { return time.Duration(v * float64(time.Second)) }
	l.P50, l.P99, l.Max = sec(f[0]), sec(f[1]), sec(f[2])
	l.BeforeP50, l.BeforeP99, l.WriteP50, l.WriteP99 = sec(f[3]), sec(f[4]), sec(f[5]), sec(f[6])
	return l, nil
}

// FirstCommitSince is the earliest commit of ledger rows written by
// transactions that started at or after t, and whether there is one.
func FirstCommitSince(ctx context.Context, pool *pgxpool.Pool, t time.Time) (time.Time, bool, error) {
	var at *time.Time
	err := pool.QueryRow(ctx, `SELECT min(pg_xact_commit_timestamp(xmin)) FROM public.ingest_ledger
WHERE ingested_at >= $1`, t).Scan(&at)
	if err != nil || at == nil {
		return time.Time{}, false, err
	}
	return *at, true, nil
}

// LastCommitOfCollected is the latest commit of ledger rows collected
// before t: when the backlog of everything collected before t was stored.
func LastCommitOfCollected(ctx context.Context, pool *pgxpool.Pool, since, t time.Time) (time.Time, error) {
	var at *time.Time
	err := pool.QueryRow(ctx, `SELECT max(pg_xact_commit_timestamp(xmin)) FROM public.ingest_ledger
WHERE collected_at >= $1 AND collected_at < $2`, since, t).Scan(&at)
	if err != nil {
		return time.Time{}, err
	}
	if at == nil {
		return time.Time{}, fmt.Errorf("no ledger rows collected between %s and %s", since, t)
	}
	return *at, nil
}
