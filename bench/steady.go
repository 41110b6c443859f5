package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgcollector/pgcollector/bus"
	"github.com/pgcollector/pgcollector/internal/procinfo"
	"github.com/pgcollector/pgcollector/probes"
)

// SteadyOptions time the steady-state measurement.
type SteadyOptions struct {
	MinWarmup, MaxWarmup time.Duration // after start, until the first slot burst is worked off
	Window               time.Duration
	Settle               time.Duration             // wait after the window for its last batches to commit
	Profile              func(ctx context.Context) // run during the window (CPU profile), may be nil
	OnStart, OnEnd       func()                    // called as the window begins and ends, may be nil
}

// Steady is what a steady-state window measured.
type Steady struct {
	Start, End      time.Time
	WarmupTook      time.Duration
	WarmupCapped    bool // the backlogs never calmed: the window began at MaxWarmup
	Rows            int64
	RowsByProbe     map[string]int64
	RowsFromMetric  []string // per-object probes whose rows are the collector's count (RowsCollected)
	RowsPerSecond   float64
	CPU             time.Duration
	CPUPerMillion   float64 // collector CPU seconds per million stored rows
	PeakRSSStartup  int64   // VmHWM from start to the window's start
	PeakRSSWindow   int64   // VmHWM within the window
	RSSEnd          int64
	Lag             Lag
	Stale           int64
	StaleWarmup     int64
	StaleSource     string
	Logs            LogCounts
	BufferBytesPerS float64
	MaxJobsBacklog  uint64
	MaxSinkBacklog  uint64
	Before, After   MonitoredSample
	Waits           Waits
	ProbeRuns       int64         // probe runs finished in the window (pgcollector_probe_duration_seconds_count)
	ProbeMean       time.Duration // their mean duration on the monitored server
	Statements      []Statement   // the monitoring role's statements by probe, since start
	MinMemAvailable int64         // the machine's MemAvailable, lowest sample
	DedupCache      DedupCache    // the sink's dedup cache over the window
}

// DedupCache is what the sink's dedup cache did in a window: chains
// found in memory (hits) and read from dedup_state (misses), and the
// bytes it held at the end.
type DedupCache struct {
	Hits, Misses int64
	Bytes        int64
}

const (
	dedupHit   = `pgcollector_sink_dedup_cache_total{result="hit"}`
	dedupMiss  = `pgcollector_sink_dedup_cache_total{result="miss"}`
	dedupBytes = "pgcollector_sink_dedup_cache_bytes"
)

// windowCounters is what one scrape at each end of the window reads: the
// dedup cache and the rows collected by every per-object probe.
type windowCounters struct {
	dedup     DedupCache
	collected map[string]int64 // nil when the metrics could not be read
}

// collectedMetric is pgcollector_rows_collected_total of one probe.
func collectedMetric(probe string) string {
	return fmt.Sprintf("pgcollector_rows_collected_total{probe=%q}", probe)
}

// readCounters scrapes the window's counters once; zero when they cannot
// be read.
func readCounters(ctx context.Context, c *Collector) windowCounters {
	var keyed []string
	names := []string{dedupHit, dedupMiss, dedupBytes}
	for _, p := range probes.All {
		if len(p.Key) > 0 {
			keyed = append(keyed, p.Name)
			names = append(names, collectedMetric(p.Name))
		}
	}
	sums, _, err := Scrape(ctx, c.HTTPAddr, names...)
	if err != nil {
		return windowCounters{}
	}
	w := windowCounters{
		dedup:     DedupCache{Hits: int64(sums[dedupHit]), Misses: int64(sums[dedupMiss]), Bytes: int64(sums[dedupBytes])},
		collected: map[string]int64{},
	}
	for _, name := range keyed {
		w.collected[name] = int64(sums[collectedMetric(name)])
	}
	return w
}

// probeTimes reads the probe duration histogram's sum and count.
func probeTimes(ctx context.Context, c *Collector) (sum float64, count float64, ok bool) {
	const sumName, countName = "pgcollector_probe_duration_seconds_sum", "pgcollector_probe_duration_seconds_count"
	sums, found, err := Scrape(ctx, c.HTTPAddr, sumName, countName)
	return sums[sumName], sums[countName], err == nil && found[sumName] && found[countName]
}

// staleCount counts the slots not collected in time: jobs the fetchers
// dropped as stale plus slots the scheduler skipped because the pair's
// previous job still waited (absent until the first one). Without a
// metrics endpoint it counts the "stale job dropped" log lines since start.
func staleCount(ctx context.Context, c *Collector, since, until time.Time) (int64, string) {
	const stale, skipped = "pgcollector_jobs_stale_total", "pgcollector_jobs_skipped_total"
	if sums, _, err := Scrape(ctx, c.HTTPAddr, stale, skipped); err == nil {
		// Both have series only once something was dropped or skipped.
		return int64(sums[stale] + sums[skipped]), stale + " + " + skipped
	}
	lc, err := CountLog(c.LogPath, since, until)
	if err != nil {
		return -1, "log: " + err.Error()
	}
	return int64(lc.Stale), "log lines \"stale job dropped\""
}

// MeasureSteady waits out the start-up burst, then measures one window.
func MeasureSteady(ctx context.Context, c *Collector, w *Watch, m *Monitored, ds *pgxpool.Pool,
	started time.Time, o SteadyOptions) (Steady, error) {
	var s Steady
	pid := c.Pid()
	// Warm-up: every (connection, probe) catches its current slot up
	// soon after start; the window begins once fetchers and sinks are
	// through it.
	for {
		if done, err := c.Exited(); done {
			return s, fmt.Errorf("collector exited during warm-up: %v", err)
		}
		if err := checkMemory(); err != nil {
			return s, err
		}
		jobs, err1 := w.Backlog(ctx, bus.StreamJobs, bus.ConsumerFetcher)
		sink, err2 := w.Backlog(ctx, bus.StreamBatches, bus.ConsumerSink)
		elapsed := time.Since(started)
		calm := err1 == nil && err2 == nil && jobs.Pending < 50 && sink.Pending < 50
		if elapsed >= o.MinWarmup && calm {
			break
		}
		if elapsed >= o.MaxWarmup {
			s.WarmupCapped = true
			break
		}
		if !sleepCtx(ctx, time.Second) {
			return s, ctx.Err()
		}
	}
	s.WarmupTook = time.Since(started)
	var err error
	if s.PeakRSSStartup, err = PeakRSS(pid); err != nil {
		return s, err
	}
	if err := ResetPeakRSS(pid); err != nil {
		return s, fmt.Errorf("reset peak RSS: %w", err)
	}
	staleStart, _ := staleCount(ctx, c, started, time.Now())
	cpu0, err := ProcessCPU(pid)
	if err != nil {
		return s, err
	}
	bytes0, _ := w.StreamBytes(ctx, bus.StreamBatches)
	if s.Before, err = m.Sample(ctx); err != nil {
		return s, err
	}
	psum0, pcount0, pok := probeTimes(ctx, c)
	counters0 := readCounters(ctx, c)
	if o.OnStart != nil {
		o.OnStart()
	}
	s.Start = time.Now()
	profiled := make(chan struct{})
	go func() {
		defer close(profiled)
		if o.Profile != nil {
			o.Profile(ctx)
		}
	}()
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		s.Waits = SampleWaits(ctx, c.PprofAddr, 10, o.Window/11)
	}()
	for time.Since(s.Start) < o.Window {
		if done, err := c.Exited(); done {
			return s, fmt.Errorf("collector exited during the window: %v", err)
		}
		if err := checkMemory(); err != nil {
			return s, err
		}
		if m := procinfo.MemAvailable(); s.MinMemAvailable == 0 || m < s.MinMemAvailable {
			s.MinMemAvailable = m
		}
		if b, err := w.Backlog(ctx, bus.StreamJobs, bus.ConsumerFetcher); err == nil {
			s.MaxJobsBacklog = max(s.MaxJobsBacklog, b.Total())
		}
		if b, err := w.Backlog(ctx, bus.StreamBatches, bus.ConsumerSink); err == nil {
			s.MaxSinkBacklog = max(s.MaxSinkBacklog, b.Total())
		}
		if !sleepCtx(ctx, min(2*time.Second, o.Window-time.Since(s.Start))) {
			return s, ctx.Err()
		}
	}
	s.End = time.Now()
	if o.OnEnd != nil {
		o.OnEnd()
	}
	cpu1, err := ProcessCPU(pid)
	if err != nil {
		return s, err
	}
	if s.After, err = m.Sample(ctx); err != nil {
		return s, err
	}
	s.Statements, _ = m.TopStatements(ctx)
	bytes1, _ := w.StreamBytes(ctx, bus.StreamBatches)
	s.PeakRSSWindow, _ = PeakRSS(pid)
	s.RSSEnd, _ = RSS(pid)
	if psum1, pcount1, ok := probeTimes(ctx, c); ok && pok && pcount1 > pcount0 {
		s.ProbeRuns = int64(pcount1 - pcount0)
		s.ProbeMean = time.Duration((psum1 - psum0) / (pcount1 - pcount0) * float64(time.Second))
	}
	counters1 := readCounters(ctx, c)
	var collected map[string]int64
	if counters0.collected != nil && counters1.collected != nil {
		collected = map[string]int64{}
		for p, n := range counters1.collected {
			collected[p] = n - counters0.collected[p]
		}
	}
	d0, d1 := counters0.dedup, counters1.dedup
	s.DedupCache = DedupCache{Hits: d1.Hits - d0.Hits, Misses: d1.Misses - d0.Misses, Bytes: d1.Bytes}
	staleEnd, src := staleCount(ctx, c, started, s.End)
	s.StaleSource = src
	s.StaleWarmup = staleStart
	s.Stale = staleEnd - staleStart
	s.CPU = cpu1 - cpu0
	dur := s.End.Sub(s.Start).Seconds()
	s.BufferBytesPerS = float64(int64(bytes1)-int64(bytes0)) / dur
	<-profiled
	<-sampled
	// The window's last batches are still on their way to the datastore.
	sleepCtx(ctx, o.Settle)
	if s.RowsByProbe, s.Rows, s.RowsFromMetric, err = RowsCollected(ctx, ds, s.Start, s.End, collected); err != nil {
		return s, err
	}
	if s.Lag, err = IngestLag(ctx, ds, s.Start, s.End); err != nil {
		return s, err
	}
	if s.Logs, err = CountLog(c.LogPath, s.Start, s.End); err != nil {
		return s, err
	}
	s.RowsPerSecond = float64(s.Rows) / dur
	if s.Rows > 0 {
		s.CPUPerMillion = s.CPU.Seconds() / float64(s.Rows) * 1e6
	}
	return s, nil
}

// sleepCtx sleeps d unless ctx ends first; it reports whether it slept.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
