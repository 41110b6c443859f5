package scheduler

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/pgcollector/pgcollector/bus"
	"github.com/pgcollector/pgcollector/internal/catalog"
	"github.com/pgcollector/pgcollector/internal/store"
)

// RetentionTimer is the name of the retention tick: its subject is
// pgc.timers.retention and its message id retention.<period>.
const RetentionTimer = "retention"

// TickerConfig schedules the retention tick.
type TickerConfig struct {
	RetentionFirstDelay time.Duration `envconfig:"RETENTION_FIRST_DELAY" default:"5m" desc:"delay before the first retention tick after start, or after retention fell due"`
	RetentionInterval   time.Duration `envconfig:"RETENTION_INTERVAL" default:"24h" desc:"time between retention ticks; one tick per period however many schedulers run"`
}

// Validate checks the configuration; each error names its variable.
func (c TickerConfig) Validate() error {
	var errs []error
	if c.RetentionFirstDelay <= 0 {
		errs = append(errs, errors.New("PGC_RETENTION_FIRST_DELAY: must be positive"))
	}
	if c.RetentionInterval <= 0 {
		errs = append(errs, errors.New("PGC_RETENTION_INTERVAL: must be positive"))
	}
	return errors.Join(errs...)
}

// TickPublisher publishes timer ticks; *bus.Bus is one.
type TickPublisher interface {
	PublishTick(ctx context.Context, t bus.Tick) error
}

// Ticker publishes the retention tick on PGC_TIMERS, once per period.
// Create it with NewTicker; Run does the work.
type Ticker struct {
	cfg TickerConfig
	q   catalog.Querier
	pub TickPublisher
	log *slog.Logger
	now func() time.Time

	// recheck bounds every wait, so that a run recorded by another
	// process, a datastore coming back or a clock jump is noticed.
	recheck time.Duration
	// retry is the wait after a failed publish.
	retry time.Duration
}

// NewTicker validates the configuration; it starts nothing. q is the
// datastore, read for the last recorded retention run.
func NewTicker(cfg TickerConfig, q catalog.Querier, pub TickPublisher, log *slog.Logger) (*Ticker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if q == nil || pub == nil || log == nil {
		return nil, errors.New("retention ticker: datastore, publisher and logger are required")
	}
	return &Ticker{cfg: cfg, q: q, pub: pub, log: log, now: time.Now,
		recheck: time.Minute, retry: 5 * time.Second}, nil
}

// Run publishes retention ticks until ctx is cancelled; it returns nil then.
func (t *Ticker) Run(ctx context.Context) error {
	started := t.now()
	var sent string // the period this process already published
	failing := false
	for {
		hist, known := t.history(ctx)
		now := t.now()
		wait := nextTick(now, started, hist, known, sent, t.cfg).Sub(now)
		if wait <= 0 {
			period := Period(now, t.cfg.RetentionInterval)
			err := t.pub.PublishTick(ctx, bus.Tick{Name: RetentionTimer, Period: period, At: now})
			switch {
			case ctx.Err() != nil:
				return nil
			case err != nil:
				if !failing {
					t.log.Error("cannot publish the retention tick; retrying", "period", period, "err", err)
				}
				failing = true
				wait = t.retry
			default:
				failing = false
				sent = period
				t.log.Info("retention tick published", "period", period)
				continue
			}
		}
		timer := time.NewTimer(min(wait, t.recheck))
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-timer.C:
		}
	}
}

// history reads the retention history. Unknown (false) means the datastore
// is unreachable or not migrated yet.
func (t *Ticker) history(ctx context.Context) (store.RetentionHistory, bool) {
	qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	h, err := store.ReadRetentionHistory(qctx, t.q)
	if err != nil {
		if ctx.Err() == nil {
			t.log.Debug("retention history unknown; scheduling from start", "err", err)
		}
		return store.RetentionHistory{}, false
	}
	return h, true
}

// Period names the period holding at: the UTC date for a 24h interval,
// else floor(unix_nanoseconds / interval) in decimal. It is the tick's
// message id suffix, so every scheduler names a period alike.
func Period(at time.Time, interval time.Duration) string {
	if interval == 24*time.Hour {
		return at.UTC().Format(time.DateOnly)
	}
	return strconv.FormatInt(periodIndex(at, interval), 10)
}

// PeriodStart returns the start of the period holding at. For 24h that is
// 00:00 UTC, matching the date Period gives.
func PeriodStart(at time.Time, interval time.Duration) time.Time {
	return time.Unix(0, periodIndex(at, interval)*int64(interval)).UTC()
}

func periodIndex(at time.Time, interval time.Duration) int64 {
	n, d := at.UnixNano(), int64(interval)
	q := n / d
	if n%d < 0 {
		q-- // floor, not truncation, before 1970
	}
	return q
}

// nextTick decides when to publish next.
//
//   - A tick already published by this process for the current period, or
//     a run recorded within it, means nothing is owed until the next period
//     starts.
//   - Otherwise the tick is due the first delay after start, or the first
//     delay after retention fell due (one interval after the last run, or
//     the datastore's creation when no run is recorded), whichever is
//     sooner. Counting from when retention fell due, which is stored, and
//     not only from start, is what stops a process that restarts more
//     often than the first delay from starving retention.
//   - While the history is unknown only the first delay after start counts.
func nextTick(now, started time.Time, h store.RetentionHistory, known bool, sent string, cfg TickerConfig) time.Time {
	interval := cfg.RetentionInterval
	periodStart := PeriodStart(now, interval)
	if sent == Period(now, interval) || known && !h.LastRun.IsZero() && !h.LastRun.Before(periodStart) {
		return periodStart.Add(interval)
	}
	due := started.Add(cfg.RetentionFirstDelay)
	if !known {
		return due
	}
	fellDue := h.Since
	if !h.LastRun.IsZero() {
		fellDue = h.LastRun.Add(interval)
	}
	if !fellDue.IsZero() {
		due = minTime(due, fellDue.Add(cfg.RetentionFirstDelay))
	}
	return due
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
