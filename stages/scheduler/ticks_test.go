package scheduler

import (
	"context"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/pgcollector/pgcollector/bus"
	"github.com/pgcollector/pgcollector/internal/catalog"
	"github.com/pgcollector/pgcollector/internal/pgtest"
	"github.com/pgcollector/pgcollector/internal/store"

	"github.com/pgcollector/pgcollector/internal/config"
)

func at(y int, m time.Month, d, h, min, s int) time.Time {
	return time.Date(y, m, d, h, min, s, 0, time.UTC)
}

func TestPeriod(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	day := 24 * time.Hour
	tests := []struct {
		name     string
		at       time.Time
		interval time.Duration
		period   string
		start    time.Time
	}{
		{"daily is the UTC date", at(2026, 12, 31, 23, 59, 59), day, "2026-12-31", at(2026, 12, 31, 0, 0, 0)},
		{"daily at midnight", at(2027, 1, 1, 0, 0, 0), day, "2027-01-01", at(2027, 1, 1, 0, 0, 0)},
		{"daily from another zone", time.Date(2026, 12, 31, 20, 0, 0, 0, ny), day, "2027-01-01", at(2027, 1, 1, 0, 0, 0)},
		{"daily across a DST change", time.Date(2026, 3, 8, 23, 30, 0, 0, ny), day, "2026-03-09", at(2026, 3, 9, 0, 0, 0)},
		{"leap day", at(2028, 2, 29, 12, 0, 0), day, "2028-02-29", at(2028, 2, 29, 0, 0, 0)},
		{"hourly", at(2026, 12, 31, 23, 30, 0), time.Hour,
			strconv.FormatInt(at(2026, 12, 31, 23, 0, 0).Unix()/3600, 10), at(2026, 12, 31, 23, 0, 0)},
		{"12h", at(2027, 1, 1, 11, 59, 59), 12 * time.Hour,
			strconv.FormatInt(at(2027, 1, 1, 0, 0, 0).Unix()/43200, 10), at(2027, 1, 1, 0, 0, 0)},
		// 48h periods count from the epoch: 2026-12-31 starts one.
		{"48h", at(2027, 1, 1, 11, 0, 0), 48 * time.Hour,
			strconv.FormatInt(at(2026, 12, 31, 0, 0, 0).Unix()/172800, 10), at(2026, 12, 31, 0, 0, 0)},
		{"before 1970 floors", at(1969, 12, 31, 23, 0, 0), time.Hour, "-1", at(1969, 12, 31, 23, 0, 0)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.period, Period(tc.at, tc.interval))
			require.Equal(t, tc.start, PeriodStart(tc.at, tc.interval))
			end := tc.start.Add(tc.interval)
			require.Equal(t, tc.period, Period(end.Add(-time.Nanosecond), tc.interval), "last instant of the period")
			require.NotEqual(t, tc.period, Period(end, tc.interval), "first instant of the next period")
		})
	}
}

func TestNextTick(t *testing.T) {
	cfg := TickerConfig{RetentionFirstDelay: 5 * time.Minute, RetentionInterval: 24 * time.Hour}
	now := at(2026, 12, 31, 10, 0, 0)
	tomorrow := at(2027, 1, 1, 0, 0, 0)
	hist := func(last, since time.Time) store.RetentionHistory {
		return store.RetentionHistory{LastRun: last, Since: since}
	}
	long := now.AddDate(0, -6, 0)
	tests := []struct {
		name    string
		now     time.Time
		started time.Time
		h       store.RetentionHistory
		known   bool
		sent    string
		cfg     TickerConfig
		want    time.Time
	}{
		{"datastore unreachable: first delay after start", now, now, hist(time.Time{}, time.Time{}), false, "", cfg, now.Add(5 * time.Minute)},
		{"unreachable, started long ago: due", now, now.Add(-time.Hour), hist(time.Time{}, time.Time{}), false, "", cfg, now.Add(-55 * time.Minute)},
		{"unreachable, but published this period", now, now.Add(-time.Hour), hist(time.Time{}, time.Time{}), false, "2026-12-31", cfg, tomorrow},
		{"ran this period: wait for the next", now, now, hist(at(2026, 12, 31, 0, 0, 1), long), true, "", cfg, tomorrow},
		{"ran at the period start exactly", now, now, hist(at(2026, 12, 31, 0, 0, 0), long), true, "", cfg, tomorrow},
		{"published this period, no run recorded yet", now, now.Add(-time.Hour), hist(at(2026, 12, 30, 0, 1, 0), long), true, "2026-12-31", cfg, tomorrow},
		{"ran last period, just started: first delay", now, now, hist(at(2026, 12, 30, 23, 0, 0), long), true, "", cfg, now.Add(5 * time.Minute)},
		{"ran last period, running for days: due now", now, now.AddDate(0, 0, -3), hist(at(2026, 12, 30, 0, 0, 5), long), true, "2026-12-30", cfg, now.AddDate(0, 0, -3).Add(5 * time.Minute)},
		{"overdue for long: due at once, whatever the start", now, now, hist(at(2026, 12, 29, 8, 0, 0), long), true, "", cfg, at(2026, 12, 30, 8, 5, 0)},
		{"just overdue: first delay after it fell due", now, now, hist(at(2026, 12, 30, 9, 58, 0), long), true, "", cfg, at(2026, 12, 31, 10, 3, 0)},
		{"never ran, fresh datastore", now, now, hist(time.Time{}, now.Add(-time.Minute)), true, "", cfg, now.Add(4 * time.Minute)},
		{"never ran, old datastore: due at once", now, now, hist(time.Time{}, long), true, "", cfg, long.Add(5 * time.Minute)},
		{"never ran, creation unknown", now, now, hist(time.Time{}, time.Time{}), true, "", cfg, now.Add(5 * time.Minute)},
		{"year end: ran today, wait for new year", at(2026, 12, 31, 23, 59, 59), now, hist(at(2026, 12, 31, 0, 10, 0), long), true, "", cfg, tomorrow},
		{"new year's first second: due", tomorrow, now, hist(at(2026, 12, 31, 0, 10, 0), long), true, "", cfg, now.Add(5 * time.Minute)},
		{"hourly: ran this hour", at(2026, 12, 31, 10, 30, 0), now, hist(at(2026, 12, 31, 10, 5, 0), long), true, "",
			TickerConfig{RetentionFirstDelay: 5 * time.Second, RetentionInterval: time.Hour}, at(2026, 12, 31, 11, 0, 0)},
		{"hourly: ran last hour, running long", at(2026, 12, 31, 10, 30, 0), now.Add(-time.Hour), hist(at(2026, 12, 31, 9, 5, 0), long), true, "",
			TickerConfig{RetentionFirstDelay: 5 * time.Second, RetentionInterval: time.Hour}, now.Add(-time.Hour).Add(5 * time.Second)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, nextTick(tc.now, tc.started, tc.h, tc.known, tc.sent, tc.cfg))
		})
	}
}

// TestRestartsNeverStarve simulates a process that restarts every
// minute, more often than a 5 minute first delay, for two days: retention
// must still be ticked at least once per day.
func TestRestartsNeverStarve(t *testing.T) {
	cfg := config.Default[TickerConfig]()
	start := at(2026, 12, 30, 0, 0, 0)
	h := store.RetentionHistory{LastRun: start.Add(-20 * time.Hour), Since: start.AddDate(-1, 0, 0)}
	var ticks []time.Time
	for now := start; now.Before(start.AddDate(0, 0, 2)); now = now.Add(time.Minute) {
		// Each minute a new process starts and looks once.
		if !nextTick(now, now, h, true, "", cfg).After(now) {
			ticks = append(ticks, now)
			h.LastRun = now // the retention stage ran it
		}
	}
	require.GreaterOrEqual(t, len(ticks), 2)
	for i := 1; i < len(ticks); i++ {
		require.LessOrEqual(t, ticks[i].Sub(ticks[i-1]), cfg.RetentionInterval+cfg.RetentionFirstDelay)
	}
}

func TestTickerConfigValidate(t *testing.T) {
	require.NoError(t, config.Default[TickerConfig]().Validate())
	for _, tc := range []struct {
		cfg  TickerConfig
		want string
	}{
		{TickerConfig{RetentionFirstDelay: 0, RetentionInterval: time.Hour}, "PGC_RETENTION_FIRST_DELAY: must be positive"},
		{TickerConfig{RetentionFirstDelay: time.Second, RetentionInterval: -time.Hour}, "PGC_RETENTION_INTERVAL: must be positive"},
	} {
		err := tc.cfg.Validate()
		require.Error(t, err)
		require.True(t, strings.HasPrefix(err.Error(), tc.want), err.Error())
		_, err = NewTicker(tc.cfg, nil, nil, testLog())
		require.ErrorContains(t, err, tc.want)
	}
}

func testLog() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// TestTickerRun runs two tickers (two schedulers) against a real
// PostgreSQL and a real JetStream: one tick per period is stored, when
// the history says so.
func TestTickerRun(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) }) // runs last, after every other cleanup
	ctx := testCtx(t)
	c := pgtest.Start(t, pgtest.Options{})
	pool, err := pgxpool.New(ctx, c.DSN("postgres"))
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	require.NoError(t, store.Migrate(ctx, pool, nil))
	// Nothing listens on port 1: the datastore is unreachable.
	down, err := pgxpool.New(ctx, "postgres://postgres@127.0.0.1:1/postgres?sslmode=disable&connect_timeout=2")
	require.NoError(t, err)
	t.Cleanup(down.Close)

	day := 24 * time.Hour
	tests := []struct {
		name    string
		q       catalog.Querier
		lastRun string // SQL for the recorded run's started_at; "" for none
		cfg     TickerConfig
		tick    bool
		minWait time.Duration
	}{
		{"fresh datastore: after the first delay", pool, "", TickerConfig{300 * time.Millisecond, day}, true, 300 * time.Millisecond},
		{"ran this period: nothing", pool, "now()", TickerConfig{100 * time.Millisecond, day}, false, 0},
		{"overdue: at once despite an hour of first delay", pool, "now() - interval '3 days'", TickerConfig{time.Hour, day}, true, 0},
		{"datastore unreachable: after the first delay", down, "", TickerConfig{300 * time.Millisecond, day}, true, 300 * time.Millisecond},
		{"hourly, ran last hour", pool, "now() - interval '2 hours'", TickerConfig{100 * time.Millisecond, time.Hour}, true, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// The datastore is "created" now, so the first delay counts
			// from here at the latest.
			start := time.Now()
			_, err := pool.Exec(ctx, `TRUNCATE public.retention_runs; UPDATE public.schema_version SET applied_at = now()`)
			require.NoError(t, err)
			if tc.lastRun != "" {
				_, err = pool.Exec(ctx, `INSERT INTO public.retention_runs (started_at, finished_at) VALUES (`+tc.lastRun+`, now())`)
				require.NoError(t, err)
			}
			cfg := config.Default[bus.Config]()
			cfg.DataDir = t.TempDir()
			cfg.BufferMaxBytes = 64 * bus.MiB
			b, err := bus.Open(ctx, cfg, testLog())
			require.NoError(t, err)
			t.Cleanup(b.Close)
			stream, err := b.JS().Stream(ctx, bus.StreamTimers)
			require.NoError(t, err)
			stored := func() uint64 {
				info, err := stream.Info(ctx)
				if err != nil {
					return 0
				}
				return info.State.LastSeq
			}

			runCtx, cancel := context.WithCancel(ctx)
			var wg sync.WaitGroup
			for range 2 {
				tk, err := NewTicker(tc.cfg, tc.q, b, testLog())
				require.NoError(t, err)
				tk.recheck, tk.retry = 50*time.Millisecond, 50*time.Millisecond
				wg.Go(func() { require.NoError(t, tk.Run(runCtx)) })
			}
			t.Cleanup(func() { cancel(); wg.Wait() })

			if !tc.tick {
				time.Sleep(time.Second)
				require.Zero(t, stored())
				return
			}
			require.Eventually(t, func() bool { return stored() >= 1 }, 10*time.Second, 10*time.Millisecond)
			require.GreaterOrEqual(t, time.Since(start), tc.minWait)
			time.Sleep(500 * time.Millisecond)
			require.Equal(t, uint64(1), stored(), "one tick per period, however many tickers")
			raw, err := stream.GetLastMsgForSubject(ctx, bus.TickSubject(RetentionTimer))
			require.NoError(t, err)
			tick, err := bus.DecodeTick(raw.Data, raw.Header)
			require.NoError(t, err)
			require.Equal(t, RetentionTimer, tick.Name)
			require.Equal(t, Period(tick.At, tc.cfg.RetentionInterval), tick.Period)
			require.Equal(t, Period(time.Now(), tc.cfg.RetentionInterval), tick.Period)
			require.Equal(t, "retention."+tick.Period, raw.Header.Get(jetstream.MsgIDHeader))
		})
	}
}
