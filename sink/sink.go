package sink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/pgcollector/pgcollector/bus"
	"github.com/pgcollector/pgcollector/internal/store"
	"github.com/pgcollector/pgcollector/probes"
)

const (
	// maxWait bounds one fetch, which is also how long a cancelled Run
	// may take to notice.
	maxWait = time.Second
	// fetchMessages caps the messages of one fetch; FetchMaxBytes is what
	// normally ends it.
	fetchMessages = 1024
	// flushTimeout bounds one write. It stays below the consumer's
	// AckWait (60s), after which JetStream would redeliver the messages
	// while they are still being written.
	flushTimeout = 45 * time.Second
	// shutdownGrace is what a flush in progress gets to finish once Run's
	// context is cancelled.
	shutdownGrace = 5 * time.Second
)

// Stats are the sink's counters, safe to read at any time.
type Stats struct {
	BatchesStored      atomic.Int64 // batch parts whose rows were written
	RowsStored         atomic.Int64 // rows written by COPY
	StatusesStored     atomic.Int64 // status batches recorded
	Duplicates         atomic.Int64 // batch parts skipped: already in the ledger
	SnapshotsUnchanged atomic.Int64 // change-tracked parts skipped: equal to the last snapshot
	RowsUnchanged      atomic.Int64 // keyed rows not stored: equal to their object's last stored row
	Tombstones         atomic.Int64 // keyed objects recorded as gone
	Poison             atomic.Int64 // messages terminated: undecodable or refused by the datastore
	Naks               atomic.Int64 // messages negatively acknowledged for a retry
	Flushes            atomic.Int64 // committed transactions
	LargestFlush       atomic.Int64 // decoded batch bytes of the largest flush so far
}

// Sink is the stage writing batches into the datastore.
type Sink struct {
	cfg   Config
	pool  *pgxpool.Pool
	bus   *bus.Bus
	log   *slog.Logger
	parts *store.Partitions
	stats Stats
	obs   Observer
	dedup *deduper // nil when PGC_SINK_DEDUP is off
	// cachePaused is the dedup cache's state as last reported, to log
	// when it pauses itself and when it is used again.
	cachePaused atomic.Bool

	outage *outage // shared by the workers (pace.go)
	pace   *pacer

	// replay is set by Ingester (ingest.go): the writes restore data and
	// leave connection state alone.
	replay *ingestMode

	// afterCommit, when set by a test, runs after a write commits and
	// before its messages are acknowledged; an error makes Run return at
	// once without acknowledging, as if the process died there.
	afterCommit func() error
}

// New validates the configuration and returns a sink. It starts nothing.
func New(cfg Config, pool *pgxpool.Pool, b *bus.Bus, log *slog.Logger) (*Sink, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if pool == nil || b == nil {
		return nil, errors.New("sink: datastore pool and bus are required")
	}
	if log == nil {
		log = slog.Default()
	}
	return &Sink{
		cfg:    cfg,
		pool:   pool,
		bus:    b,
		log:    log,
		parts:  store.NewPartitions(pool),
		outage: &outage{retry: backoff{min: minBackoff, max: cfg.MaxBackoff}},
		pace:   newPacer(cfg.MaxRowsPerSecond),
		obs:    nopObserver{},
		dedup:  newDeduper(cfg, probes.All),
		// Set only in builds with the pgc_faults tag (fault_on.go).
		afterCommit: faultAfterCommit(),
	}, nil
}

// Stats returns the live counters.
func (s *Sink) Stats() *Stats { return &s.stats }

// Run consumes batches with PGC_SINK_WORKERS workers until ctx is
// cancelled, then finishes the flushes in progress and writes the messages
// it already holds (each write bounded by a few seconds), and returns nil. Messages it could not settle are
// redelivered by JetStream. It returns an error only when the consumer
// cannot be had.
func (s *Sink) Run(ctx context.Context) error {
	cons, err := s.bus.Batches(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("sink: %w", err)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	pruneCtx, stopPrune := context.WithCancel(ctx)
	defer stopPrune()
	wg.Go(func() { s.pruneLedger(pruneCtx) })

	// The workers share the consumer like separate sinks would. The first
	// error (only the crash hook makes one) stops the others at once, as a
	// dying process would.
	wctx, stopWorkers := context.WithCancelCause(ctx)
	defer stopWorkers(nil)
	errs := make(chan error, s.cfg.Workers)
	for range s.cfg.Workers {
		wg.Go(func() {
			err := s.work(wctx, cons)
			if err != nil {
				stopWorkers(err)
			}
			errs <- err
		})
	}
	var first error
	for range s.cfg.Workers {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// work is one worker: it fetches until a flush is due, writes it, and
// starts over, until ctx is cancelled.
func (s *Sink) work(ctx context.Context, cons jetstream.Consumer) error {
	var pending []jetstream.Msg
	var sizes []int  // each pending message's decoded bytes
	carried := false // pending was fetched for an earlier flush
	var size int
	var deadline time.Time
	fetchFailing := false
	// A fetch asks for at least one message of the largest size, which
	// FetchMaxBytes would otherwise refuse forever; so once less room than
	// that is left, the flush is due. A flush holds at most about
	// max(FlushBytes, MaxPayload) bytes.
	minFetch := s.bus.MaxPayload() + 64<<10
	// size counts decoded COPY text (bus.BodyLen), what a flush holds in
	// memory, while a fetch is bounded by wire bytes, which compression
	// makes several times smaller: the messages of a fetch are capped by
	// the text per message seen so far, so that one fetch does not bring
	// several flushes' worth of text.
	perMsg := 0
	for {
		room := int(s.cfg.FlushBytes) - size
		due := len(pending) > 0 && (room < minFetch || !time.Now().Before(deadline))
		if due || ctx.Err() != nil {
			if context.Cause(ctx) != ctx.Err() {
				return nil // another worker crashed: settle nothing more
			}
			// On cancellation the messages already fetched are still
			// written (with a short deadline) rather than left to wait
			// out their AckWait.
			if len(pending) > 0 {
				if carried && ctx.Err() == nil {
					s.pace.wait(ctx) // as before the fetch of any other flush
				}
				take, n := flushPrefix(sizes, int(s.cfg.FlushBytes))
				if crashed, err := s.flush(ctx, pending[:take]); crashed {
					return err
				}
				pending, sizes, size = carry(pending[take:]), sizes[take:], size-n
			}
			carried = len(pending) > 0
			if carried {
				deadline = time.Now() // fetched already: due at once
				continue
			}
			pending, sizes, size = nil, nil, 0
			if ctx.Err() != nil {
				return nil
			}
			continue
		}
		// An empty flush starts with this fetch: whatever it returns is
		// due FlushInterval after it began. Fetches stay short even when
		// the flush is far off, because a fetch in flight does not notice
		// ctx.
		if len(pending) == 0 {
			s.pace.wait(ctx)
			if ctx.Err() != nil {
				continue
			}
			deadline = time.Now().Add(s.cfg.FlushInterval)
		}
		wait := min(maxWait, time.Until(deadline))
		count := fetchMessages
		if perMsg > 0 {
			count = min(fetchMessages, max(1, room/perMsg))
		}
		msgs, err := s.fetch(cons, count, max(wait, time.Millisecond), max(room, minFetch))
		switch {
		case err != nil && !fetchFailing:
			s.log.Error("fetch batches failed, retrying", "err", err)
			fetchFailing = true
		case err == nil && fetchFailing:
			s.log.Info("fetching batches again")
			fetchFailing = false
		}
		if err != nil {
			sleep(ctx, time.Second)
		}
		for _, m := range msgs {
			pending = append(pending, m)
			n := bus.BodyLen(m.Data(), m.Headers())
			sizes = append(sizes, n)
			size += n
			if perMsg == 0 {
				perMsg = n
			}
			perMsg = (perMsg*7 + n) / 8 // a moving average is enough to size fetches
		}
	}
}

// flushPrefix returns how many of the pending messages, whose decoded
// sizes are sizes, one flush takes, and their bytes: as many as fit in
// limit, and at least one. A fetch is bounded by wire bytes and by the
// text per message seen so far, so it can bring several times limit of
// text (at the start, when the fetchers' first slots all arrive at once
// and the datastore stores every row: 44 MB in one 1,000-server run).
// Decoding only what a flush writes keeps the rest compressed until the
// next flush.
func flushPrefix(sizes []int, limit int) (take, bytes int) {
	for take < len(sizes) && (take == 0 || bytes+sizes[take] <= limit) {
		bytes += sizes[take]
		take++
	}
	return take, bytes
}

// carry keeps messages for the next flush, telling JetStream they are in
// progress so that their AckWait starts again: they have waited for one
// flush already.
func carry(msgs []jetstream.Msg) []jetstream.Msg {
	for _, m := range msgs {
		_ = m.InProgress()
	}
	return msgs
}

// fetch pulls up to count messages that arrive within wait, up to maxBytes.
func (s *Sink) fetch(cons jetstream.Consumer, count int, wait time.Duration, maxBytes int) ([]jetstream.Msg, error) {
	batch, err := cons.Fetch(count, jetstream.FetchMaxWait(wait), jetstream.FetchMaxBytes(maxBytes))
	if err != nil {
		return nil, err
	}
	var msgs []jetstream.Msg
	for m := range batch.Messages() {
		msgs = append(msgs, m)
	}
	if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) {
		return msgs, err
	}
	return msgs, nil
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
