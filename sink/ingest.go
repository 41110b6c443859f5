package sink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgcollector/pgcollector/bus"
	"github.com/pgcollector/pgcollector/internal/bufpool"
	"github.com/pgcollector/pgcollector/internal/store"
	"github.com/pgcollector/pgcollector/probes"
)

// Ingester writes batches through the sink's write path — partitions, one
// COPY per table, the ingest ledger, per probe state, all in one
// transaction — without consuming PGC_BATCHES. `pgcollector replay` reads
// retained batches itself and hands them here. It acknowledges nothing and
// terminates nothing: the stream is only read.
//
// Without force, a batch part already in the ledger is skipped, exactly as
// the stage skips a redelivery, so a replay adds only what is missing.
// With force, each sample (connection, collection time and database) is
// replaced: its rows are deleted and stored again in the same transaction,
// which restores deleted rows and never stores a sample twice. Force still
// skips another run of the same slot than the one the ledger kept, and a
// change-tracked snapshot equal to the one before it, as the stage does.
//
// Status batches are skipped: they carry state, not data, and an old one
// could make a connection look failed that has long recovered. For the
// same reason an Ingester leaves connections.connection_error alone; the
// state it does write (last success, availability, snapshots) never moves
// backwards in time.
type Ingester struct {
	s *Sink
}

// IngestResult counts what Ingest did.
type IngestResult struct {
	Batches    int64 // batch parts stored
	Rows       int64 // rows stored
	Duplicates int64 // parts skipped: already ingested (or another run of the slot kept)
	Unchanged  int64 // change-tracked parts skipped: equal to the last snapshot
	Statuses   int64 // status batches skipped
	Poison     int64 // parts the datastore refused for good (logged)
	// With PGC_SINK_DEDUP: chains whose last state was found in the
	// sink's memory (CacheHits) or read from public.dedup_state.
	CacheHits, CacheMisses int64
}

// Add sums results.
func (r *IngestResult) Add(o IngestResult) {
	r.Batches += o.Batches
	r.Rows += o.Rows
	r.Duplicates += o.Duplicates
	r.Unchanged += o.Unchanged
	r.Statuses += o.Statuses
	r.Poison += o.Poison
	r.CacheHits += o.CacheHits
	r.CacheMisses += o.CacheMisses
}

// ingestMode is how an Ingester's writes differ from the stage's; a nil
// *ingestMode (the stage) changes nothing.
type ingestMode struct {
	force bool
}

// NewIngester returns an Ingester writing through pool, paced by
// cfg.MaxRowsPerSecond like the stage. It starts nothing.
func NewIngester(cfg Config, pool *pgxpool.Pool, log *slog.Logger, force bool) (*Ingester, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if pool == nil {
		return nil, errors.New("ingester: datastore pool required")
	}
	if log == nil {
		log = slog.Default()
	}
	return &Ingester{s: &Sink{
		cfg:    cfg,
		pool:   pool,
		log:    log,
		parts:  store.NewPartitions(pool),
		outage: &outage{retry: backoff{min: minBackoff, max: cfg.MaxBackoff}},
		pace:   newPacer(cfg.MaxRowsPerSecond),
		obs:    nopObserver{},
		replay: &ingestMode{force: force},
		dedup:  newDeduper(cfg, probes.All),
	}}, nil
}

// Ingest writes batches in one transaction and returns what it stored. A
// batch the datastore refuses as bad data is logged with its id and
// counted as poison, and the others are written without it. Any other
// failure (the datastore is down, say) is returned with nothing written:
// calling Ingest again with the same batches is always safe.
//
// With force, every part of a split batch must be in the same call: the
// sample is deleted before its parts are stored.
func (in *Ingester) Ingest(ctx context.Context, batches []bus.Batch) (IngestResult, error) {
	var res IngestResult
	items := make([]*item, 0, len(batches))
	for _, b := range batches {
		switch err := check(b); {
		case b.Kind != bus.KindRows:
			res.Statuses++
		case err != nil:
			res.Poison++
			in.s.log.Error("batch cannot be stored", "batch_id", b.ID, "part", b.Part, "err", err)
		default:
			items = append(items, &item{b: b})
		}
	}
	if len(items) == 0 {
		return res, nil
	}
	in.s.pace.wait(ctx)
	// The rows dedup kept of a batch live in pooled buffers (dedup.go);
	// the caller's batches are left as they are.
	defer func() {
		for _, it := range items {
			if it.filtered {
				bufpool.Put(it.data)
				it.data, it.filtered = nil, false
			}
		}
	}()
	w, cls, err := in.s.attempt(ctx, items)
	switch {
	case err == nil:
		res.Add(result(w))
	case cls == poison:
		// Isolate the culprits as the stage does, one batch at a time.
		for _, it := range items {
			w, cls, err := in.s.attempt(ctx, []*item{it})
			switch {
			case err == nil:
				res.Add(result(w))
			case cls == poison:
				res.Poison++
				in.s.log.Error("batch refused by the datastore", "batch_id", it.b.ID, "part", it.b.Part,
					"sqlstate", sqlstate(err), "err", err)
			default:
				return res, fmt.Errorf("write batches: %w", err)
			}
		}
	default:
		return res, fmt.Errorf("write batches: %w", err)
	}
	in.s.pace.charge(res.Rows)
	return res, nil
}

func result(w written) IngestResult {
	return IngestResult{Batches: w.batches, Rows: w.rows, Duplicates: w.duplicates, Unchanged: w.unchanged,
		CacheHits: w.cacheHits, CacheMisses: w.cacheMisses}
}

// forced reports a force replay, which stores every run in full and
// leaves the chains of keyed probes alone (dedup.go).
func (m *ingestMode) forced() bool { return m != nil && m.force }

// beforePlan makes force forget which parts the ledger holds, keeping the
// collection time of the run it kept.
func (m *ingestMode) beforePlan(ledger map[string]*recorded) {
	if m == nil || !m.force {
		return
	}
	for _, r := range ledger {
		clear(r.parts)
	}
}

// afterPlan drops the plan's connection state and, with force, deletes
// the ledger rows and metrics rows the plan is about to write again.
func (m *ingestMode) afterPlan(ctx context.Context, tx pgx.Tx, p *plan) error {
	if m == nil {
		return nil
	}
	p.conns = nil
	if !m.force || len(p.ledger) == 0 {
		return nil
	}
	batch := &pgx.Batch{}
	ids, parts := make([]string, len(p.ledger)), make([]int32, len(p.ledger))
	for i, it := range p.ledger {
		ids[i], parts[i] = it.b.ID, int32(it.b.Part)
	}
	batch.Queue(`DELETE FROM public.ingest_ledger l USING unnest($1::text[], $2::int[]) AS k(id, part)
WHERE l.batch_id = k.id AND l.part = k.part`, ids, parts)
	for _, probe := range groupProbes(p) {
		queueDeleteSamples(batch, probe, p)
	}
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		return fmt.Errorf("replace replayed samples: %w", err)
	}
	return nil
}

// groupProbes lists the probes of a plan's COPY groups, sorted so that
// concurrent writers delete in the same order.
func groupProbes(p *plan) []string {
	var out []string
	for _, items := range p.groups {
		if pr := items[0].b.Probe; !slices.Contains(out, pr) {
			out = append(out, pr)
		}
	}
	slices.Sort(out)
	return out
}

// queueDeleteSamples deletes the stored rows of every sample of probe the
// plan writes: one sample is the rows of one connection, collection time
// and, for database-scoped probes, database.
func queueDeleteSamples(batch *pgx.Batch, probe string, p *plan) {
	type sample struct {
		conn int64
		at   time.Time
		db   string
	}
	seen := map[sample]bool{}
	var conns []int64
	var times []time.Time
	var dbs []string
	scoped := false
	for _, items := range p.groups {
		for _, it := range items {
			b := it.b
			s := sample{b.ConnectionID, at(b), b.Database}
			if b.Probe != probe || seen[s] {
				continue
			}
			seen[s] = true
			scoped = scoped || b.Database != ""
			conns, times, dbs = append(conns, s.conn), append(times, s.at), append(dbs, s.db)
		}
	}
	table := store.Table(probe)
	// A keyed probe's markers and tombstones stay: they say how the
	// sample's run relates to its chain, and the rows stored again in
	// full are its values either way (docs/storage.md).
	var keep string
	if p, err := probes.ByName(probe); err == nil && len(p.Key) > 0 {
		keep = " AND m." + store.SampleKind + " IS NULL"
	}
	if scoped {
		batch.Queue(`DELETE FROM `+table+` m USING unnest($1::bigint[], $2::timestamptz[], $3::text[]) AS k(c, t, d)
WHERE m.connection_id = k.c AND m.collected_at = k.t AND m.database_name = k.d`+keep, conns, times, dbs)
		return
	}
	batch.Queue(`DELETE FROM `+table+` m USING unnest($1::bigint[], $2::timestamptz[]) AS k(c, t)
WHERE m.connection_id = k.c AND m.collected_at = k.t`+keep, conns, times)
}
