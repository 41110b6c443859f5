package scheduler

import (
	"context"
	"errors"
	"hash/fnv"
	"log/slog"
	"strconv"
	"time"

	"github.com/pgcollector/pgcollector/bus"
	"github.com/pgcollector/pgcollector/internal/catalog"
	"github.com/pgcollector/pgcollector/probes"
)

// Config of the scheduler stage.
type Config struct {
	Tick time.Duration `envconfig:"SCHEDULER_TICK" default:"1s" desc:"how often the scheduler looks for due slots"`
}

// Source is the last-known configuration the scheduler works from.
type Source interface {
	Connections() []catalog.Connection
	Probes() map[string]catalog.ProbeConfig
	Ready() <-chan struct{}
	// Version changes whenever Connections or Probes may have changed.
	Version() uint64
}

// Publisher publishes jobs; *bus.Bus is one.
type Publisher interface {
	// PublishJobSeq publishes j and returns its sequence in the queue.
	PublishJobSeq(ctx context.Context, j bus.Job) (uint64, error)
	// JobsDelivered returns the highest sequence the fetchers were handed.
	JobsDelivered(ctx context.Context) (uint64, error)
	// JobsLast returns the sequence of the last job the queue accepted.
	JobsLast(ctx context.Context) (uint64, error)
}

// Observer is told about slots the scheduler skips, for the process's
// self-metrics; cmd hands in obs.Metrics.
type Observer interface {
	// SlotSkipped reports a slot left without a job because the previous
	// job of the same connection and probe was still queued.
	SlotSkipped(probe string)
}

type nopObserver struct{}

func (nopObserver) SlotSkipped(string) {}

type key struct {
	conn  int64
	probe string
}

// last is the job most recently published for a (connection, probe).
type last struct {
	interval int
	slot     int64
	at       time.Time // when it was published
}

// due reports whether slot, which starts at start, needs a job, given the
// last job published for the same (connection, probe), if any (ok).
//
// With an unchanged interval every later slot is due. When the interval
// changed, the new schedule begins with its next slot if a job of the old
// schedule was already published within the current one: publishing the
// current slot as well would take a second sample moments after the last,
// and a changed interval must apply from the next slot, not add a run.
func due(l last, ok bool, interval int, slot int64, start time.Time) bool {
	switch {
	case !ok:
		return true
	case l.interval == interval:
		return slot > l.slot
	default:
		return l.at.Before(start)
	}
}

// Scheduler publishes due jobs. Create it with New; Run does the work.
type Scheduler struct {
	cfg   Config
	src   Source
	pub   Publisher
	log   *slog.Logger
	known map[string]bool
	now   func() time.Time

	plan    *plan
	version uint64
	synced  bool
	failing bool
	obs     Observer
	behind  behind
	// prior is the last sequence the queue held when this run first read
	// it (priorKnown): a job an earlier run left waiting is at or below.
	prior      uint64
	priorKnown bool

	ckpt              Checkpointer // nil: no checkpoint
	lastCheckpoint    time.Time
	checkpointFailing bool
}

// New validates the configuration; it starts nothing.
func New(cfg Config, src Source, pub Publisher, log *slog.Logger) (*Scheduler, error) {
	if cfg.Tick <= 0 || cfg.Tick > time.Minute {
		return nil, errors.New("PGC_SCHEDULER_TICK: must be between 1ns and 1m")
	}
	known := map[string]bool{}
	for _, p := range probes.All {
		known[p.Name] = true
	}
	s := &Scheduler{cfg: cfg, src: src, pub: pub, log: log, known: known, now: time.Now, plan: newPlan(),
		obs: nopObserver{}}
	if c, ok := pub.(Checkpointer); ok {
		s.ckpt = c
	}
	return s, nil
}

// SetObserver directs the scheduler's events to o. Call it before Run;
// nil restores the default, which ignores them.
func (s *Scheduler) SetObserver(o Observer) {
	if o == nil {
		o = nopObserver{}
	}
	s.obs = o
}

// Run publishes jobs until ctx is cancelled; it returns nil then.
func (s *Scheduler) Run(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case <-s.src.Ready():
	}
	s.loadCheckpoint(ctx)
	t := time.NewTicker(s.cfg.Tick)
	defer t.Stop()
	for {
		s.publishDue(ctx)
		s.checkpoint(ctx, false)
		select {
		case <-ctx.Done():
			// What this run published is saved for the next one.
			s.checkpoint(context.WithoutCancel(ctx), true)
			return nil
		case <-t.C:
		}
	}
}

// Offset spreads the slots of one (connection, probe) over its interval,
// the same way in every scheduler process (see phaseHash).
func Offset(conn int64, probe string, interval int) int64 {
	return int64(phaseHash(conn, probe) % uint32(interval))
}

// phaseHash places a pair in its interval. A server-scoped probe has a
// phase of its own, which spreads a server's probes over the interval. The
// database-scoped probes of a connection share one: their slots begin on
// the same second (intervals that divide one another line up), so they run
// as one burst per interval, one database after another, each database on
// one session (monpool), and the sessions to the server's other databases
// are needed for that burst only (PGC_MONITORED_OTHER_DB_IDLE_TIMEOUT)
// instead of being held, a backend each, all the time.
func phaseHash(conn int64, probe string) uint32 {
	key := strconv.FormatInt(conn, 10) + "/" + probe
	if p, err := probes.ByName(probe); err == nil && p.Scope == probes.ScopeDatabase {
		key = strconv.FormatInt(conn, 10) + "/database probes"
	}
	h := fnv.New32a()
	h.Write([]byte(key))
	return h.Sum32()
}

// SlotAt returns the slot containing t and the slot's start.
func SlotAt(t time.Time, conn int64, probe string, interval int) (int64, time.Time) {
	return slotOf(t, Offset(conn, probe, interval), interval)
}

// publishDue publishes the jobs of every slot that has begun. It walks the
// configuration only when it changed; otherwise it looks at the due
// entries alone, which keeps a tick cheap for a large fleet.
func (s *Scheduler) publishDue(ctx context.Context) {
	now := s.now()
	if v := s.src.Version(); !s.synced || v != s.version {
		s.plan.sync(s.src.Connections(), s.src.Probes(), s.known, now)
		s.version, s.synced = v, true
	}
	var q queue
	for e := s.plan.due(now); e != nil; e = s.plan.due(now) {
		job, ok := e.job(now)
		if !ok {
			s.plan.done(e, now, false)
			continue
		}
		if pred, exact, found := s.predecessor(ctx, &q, e); found {
			switch queued, known := q.holds(ctx, s.pub, pred); {
			case queued && exact:
				s.skip(job, now)
				s.plan.done(e, now, false)
				continue
			case !queued && known:
				job.Sole = true
			}
		}
		seq, err := s.pub.PublishJobSeq(ctx, job)
		if err != nil {
			// The entry stays due: the next tick publishes the slot
			// that is current then.
			s.reportFailure(ctx, err)
			return
		}
		e.seq = seq
		s.plan.done(e, now, true)
	}
	s.behind.report(s.log, now)
	if s.failing {
		s.failing = false
		s.log.Info("publishing jobs again")
	}
}

// reportFailure logs once per outage; the next tick retries, and the slot
// is still published late rather than skipped while it is current.
func (s *Scheduler) reportFailure(ctx context.Context, err error) {
	if ctx.Err() != nil || s.failing {
		return
	}
	s.failing = true
	s.log.Error("cannot publish jobs; retrying every tick", "err", err)
}
