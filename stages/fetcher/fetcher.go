package fetcher

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/pgcollector/pgcollector/bus"
	"github.com/pgcollector/pgcollector/internal/catalog"
	"github.com/pgcollector/pgcollector/internal/monpool"
)

// Source is the last-known configuration the fetcher works from.
type Source interface {
	Connection(id int64) (catalog.Connection, bool)
	Probe(name string) (catalog.ProbeConfig, bool)
}

// Bus is what the fetcher needs of the message bus; *bus.Bus is one.
type Bus interface {
	Jobs(ctx context.Context) (jetstream.Consumer, error)
	PublishBatch(ctx context.Context, b bus.Batch) error
}

// Stats are the fetcher's counters since start.
type Stats struct {
	JobsDone, JobsStale, JobsFailed, JobsRequeued atomic.Int64
	ProbeRuns, ProbeErrors, Unavailable, Rows     atomic.Int64
	BufferFull                                    atomic.Int64
}

// Fetcher runs probes for jobs. Create it with New; Run does the work.
type Fetcher struct {
	cfg   Config
	src   Source
	pool  *monpool.Manager
	bus   Bus
	log   *slog.Logger
	now   func() time.Time
	stats Stats

	dbs    *databaseCache
	avail  *availabilityCache
	bursts *bursts
	caps   *objectCaps
	stmts  statements // the text of each run, built once

	bufferFull   atomic.Bool
	bufferFullAt atomic.Int64 // unix nanoseconds of the last ErrBufferFull (job.go)

	obs        Observer
	health     *health
	maxDeliver int // the job consumer's MaxDeliver: the last delivery of a job
}

// New validates the configuration; it starts nothing.
func New(cfg Config, src Source, pool *monpool.Manager, b Bus, log *slog.Logger) (*Fetcher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if src == nil || pool == nil || b == nil || log == nil {
		return nil, errors.New("fetcher: source, pool, bus and logger are required")
	}
	caps, err := cfg.objectCaps()
	if err != nil {
		return nil, err
	}
	return &Fetcher{
		cfg: cfg, src: src, pool: pool, bus: b, log: log, now: time.Now,
		dbs:   newDatabaseCache(cfg.DatabaseListTTL),
		avail: newAvailabilityCache(cfg.AvailabilityRecheck), bursts: newBursts(),
		obs: nopObserver{}, health: newHealth(), caps: newObjectCaps(caps),
	}, nil
}

// Stats returns the live counters.
func (f *Fetcher) Stats() *Stats { return &f.stats }

// pullExpiry bounds how long one pull request waits on the server. A pull
// request lives only on the consumer's leader, so when that NATS node dies
// the fetcher hears nothing until it misses two heartbeats (half the expiry
// each) and pulls again: with the default 30 s expiry every fetcher would
// sit idle for 30 s after the cluster lost a node, several slots of a 5 s
// probe. An idle fetcher now sends one small request every 5 s.
const pullExpiry = 5 * time.Second

// Run consumes jobs until ctx is cancelled. In-flight probes get
// ShutdownGrace to finish; jobs still running then are handed back (nak)
// for another fetcher or the next start. It returns nil on cancellation.
func (f *Fetcher) Run(ctx context.Context) error {
	cons, err := f.bus.Jobs(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	if info := cons.CachedInfo(); info != nil {
		f.maxDeliver = info.Config.MaxDeliver
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(f.cfg.Workers), jetstream.PullExpiry(pullExpiry))
	if err != nil {
		return err
	}
	// work outlives ctx by the shutdown grace, so a probe halfway through
	// is allowed to finish and be acknowledged.
	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	loop, stopLoop := context.WithCancel(ctx)
	defer stopLoop()
	stopped := make(chan struct{})
	go func() {
		<-loop.Done()
		it.Stop()
		close(stopped)
	}()

	go f.sweepPools(loop)
	sem := make(chan struct{}, f.cfg.Workers)
	var wg sync.WaitGroup
	// failing keeps a NATS outage to two lines: missed heartbeats repeat
	// every pullExpiry while it lasts.
	failing := false
	for {
		msg, err := it.Next()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				break
			}
			if !failing {
				f.log.Warn("job consumer failing; pulling again", "err", err)
				failing = true
			} else {
				f.log.Debug("job consumer", "err", err)
			}
			continue
		}
		if failing {
			f.log.Info("receiving jobs again")
			failing = false
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			f.handle(work, msg)
		}()
	}
	stopLoop()
	<-stopped
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(f.cfg.ShutdownGrace):
		cancelWork()
		<-done
	}
	return nil
}

// sweepPools closes the sessions of connections that were removed or
// disabled, once the configuration cache no longer lists them.
func (f *Fetcher) sweepPools(ctx context.Context) {
	t := time.NewTicker(30 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f.pool.Sweep(func(id int64) bool { _, ok := f.src.Connection(id); return ok })
		}
	}
}
