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
}

// Publisher publishes jobs; *bus.Bus is one.
type Publisher interface {
	PublishJob(ctx context.Context, j bus.Job) error
}

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

	sent    map[key]last
	failing bool
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
	return &Scheduler{cfg: cfg, src: src, pub: pub, log: log, known: known, now: time.Now, sent: map[key]last{}}, nil
}

// Run publishes jobs until ctx is cancelled; it returns nil then.
func (s *Scheduler) Run(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case <-s.src.Ready():
	}
	t := time.NewTicker(s.cfg.Tick)
	defer t.Stop()
	for {
		s.publishDue(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Offset spreads the slots of one (connection, probe) over its interval,
// the same way in every scheduler process.
func Offset(conn int64, probe string, interval int) int64 {
	h := fnv.New32a()
	h.Write([]byte(strconv.FormatInt(conn, 10) + "/" + probe))
	return int64(h.Sum32() % uint32(interval))
}

// SlotAt returns the slot containing t and the slot's start.
func SlotAt(t time.Time, conn int64, probe string, interval int) (int64, time.Time) {
	off := Offset(conn, probe, interval)
	slot := (t.Unix() - off) / int64(interval)
	return slot, time.Unix(slot*int64(interval)+off, 0).UTC()
}

func (s *Scheduler) publishDue(ctx context.Context) {
	now := s.now()
	conns := s.src.Connections()
	cfgs := s.src.Probes()
	live := make(map[key]bool, len(conns)*len(cfgs))
	for _, c := range conns {
		for name, p := range cfgs {
			if !p.Enabled || !s.known[name] || p.IntervalSeconds <= 0 {
				continue
			}
			k := key{c.ID, name}
			live[k] = true
			slot, start := SlotAt(now, c.ID, name, p.IntervalSeconds)
			l, ok := s.sent[k]
			if !due(l, ok, p.IntervalSeconds, slot, start) {
				if l.interval != p.IntervalSeconds {
					// The current slot of the new interval counts as
					// served by the old schedule's last job.
					s.sent[k] = last{p.IntervalSeconds, slot, l.at}
				}
				continue
			}
			job := bus.Job{ConnectionID: c.ID, Probe: name, Slot: slot, IntervalSeconds: p.IntervalSeconds, ScheduledAt: start}
			if err := s.pub.PublishJob(ctx, job); err != nil {
				s.reportFailure(ctx, err)
				return
			}
			s.sent[k] = last{p.IntervalSeconds, slot, now}
		}
	}
	if s.failing {
		s.failing = false
		s.log.Info("publishing jobs again")
	}
	for k := range s.sent {
		if !live[k] {
			delete(s.sent, k)
		}
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
