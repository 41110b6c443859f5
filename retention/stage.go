package retention

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/pgcollector/pgcollector/bus"
	"github.com/pgcollector/pgcollector/internal/store"
)

// timerName is the name of the ticks this stage runs on; the scheduler
// publishes them as scheduler.RetentionTimer.
const timerName = "retention"

// Config of the retention stage.
type Config struct {
	LockTimeout time.Duration `envconfig:"RETENTION_LOCK_TIMEOUT" default:"5s" desc:"longest wait for the locks to drop one partition; a busy table is retried on the next run"`
	RetryDelay  time.Duration `envconfig:"RETENTION_RETRY_DELAY" default:"30s" desc:"delay before a tick is retried while the datastore is unreachable"`
}

// Validate checks the configuration; each error names its variable.
func (c Config) Validate() error {
	var errs []error
	if c.LockTimeout < time.Millisecond || c.LockTimeout > time.Minute {
		errs = append(errs, fmt.Errorf("PGC_RETENTION_LOCK_TIMEOUT: must be between 1ms and 1m, got %s", c.LockTimeout))
	}
	if c.RetryDelay <= 0 {
		errs = append(errs, fmt.Errorf("PGC_RETENTION_RETRY_DELAY: must be positive, got %s", c.RetryDelay))
	}
	return errors.Join(errs...)
}

// Timers gives the retention stage's durable consumer; *bus.Bus is one.
type Timers interface {
	Timers(ctx context.Context) (jetstream.Consumer, error)
}

// Stage drops expired partitions on every tick. Create it with New; Run
// does the work.
type Stage struct {
	cfg  Config
	pool *pgxpool.Pool
	bus  Timers
	log  *slog.Logger
	now  func() time.Time

	failing bool // the datastore was unreachable on the last attempt
}

// New validates the configuration; it starts nothing.
func New(cfg Config, pool *pgxpool.Pool, b Timers, log *slog.Logger) (*Stage, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if pool == nil || b == nil || log == nil {
		return nil, errors.New("retention: pool, bus and logger are required")
	}
	return &Stage{cfg: cfg, pool: pool, bus: b, log: log, now: time.Now}, nil
}

// Run consumes ticks until ctx is cancelled; it returns nil then. Lost
// connections to NATS are retried, never fatal.
func (s *Stage) Run(ctx context.Context) error {
	for ctx.Err() == nil {
		err := s.consume(ctx)
		if ctx.Err() != nil {
			return nil
		}
		s.log.Warn("retention consumer stopped; restarting", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
	return nil
}

// consume reads ticks one at a time. At most one is held unacknowledged
// per process, so several retention processes share the ticks.
func (s *Stage) consume(ctx context.Context) error {
	cons, err := s.bus.Timers(ctx)
	if err != nil {
		return err
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(1))
	if err != nil {
		return fmt.Errorf("consume %s: %w", bus.StreamTimers, err)
	}
	defer it.Stop()
	for {
		msg, err := it.Next(jetstream.NextContext(ctx))
		if err != nil {
			return fmt.Errorf("next tick: %w", err)
		}
		s.handle(ctx, msg)
	}
}

// handle runs retention for one tick and settles the message: ack once
// the run is recorded, nak with a delay when the datastore is unreachable,
// terminate what is not a retention tick.
func (s *Stage) handle(ctx context.Context, msg jetstream.Msg) {
	tick, err := bus.DecodeTick(msg.Data(), msg.Headers())
	if err != nil || tick.Name != timerName {
		s.log.Error("dropping a message that is not a retention tick",
			"subject", msg.Subject(), "name", tick.Name, "err", err)
		_ = msg.Term()
		return
	}
	progress := func() { _ = msg.InProgress() }
	run, err := s.run(ctx, progress)
	if ctx.Err() != nil {
		// Shutting down mid-run: the pass is incomplete, so it is not
		// recorded; hand the tick to another process now.
		_ = msg.Nak()
		return
	}
	// A finished pass is recorded even if shutdown starts meanwhile.
	settle, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err == nil {
		err = store.RecordRetentionRun(settle, s.pool, run)
	}
	if err != nil {
		if !s.failing {
			s.log.Error("retention: datastore unreachable; tick will be retried",
				"period", tick.Period, "retry_in", s.cfg.RetryDelay, "err", err)
		}
		s.failing = true
		_ = msg.NakWithDelay(s.cfg.RetryDelay)
		return
	}
	if s.failing {
		s.log.Info("retention: datastore reachable again")
		s.failing = false
	}
	level, attrs := slog.LevelInfo, []any{"period", tick.Period,
		"partitions_dropped", len(run.Dropped), "duration", run.FinishedAt.Sub(run.StartedAt)}
	if run.Error != "" {
		level, attrs = slog.LevelWarn, append(attrs, "err", run.Error)
	}
	s.log.Log(ctx, level, "retention run finished", attrs...)
	if err := msg.DoubleAck(settle); err != nil {
		// The tick comes back after the ack wait; running again is harmless.
		s.log.Warn("retention: cannot acknowledge the tick", "period", tick.Period, "err", err)
	}
}
