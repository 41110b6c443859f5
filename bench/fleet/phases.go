package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgcollector/pgcollector/bench"
	"github.com/pgcollector/pgcollector/bus"

	"github.com/pgcollector/pgcollector/internal/config"
)

// fleetPhases registers the fleet, runs the collector, measures the steady
// window and then the backlog drain.
func fleetPhases(ctx context.Context, pr progress, r *bench.Report, f *bench.Fleet, bin string, p plan, out string) error {
	if err := f.CreateDatastoreDatabase(ctx, "pgcollector"); err != nil {
		return err
	}
	dsURL := f.Datastore.DSN("pgcollector")
	dir := filepath.Join(out, "collector")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// The buffer's files can reach PGC_BUFFER_MAX_BYTES: remove them, keep
	// the log.
	defer os.RemoveAll(filepath.Join(dir, "data"))
	var extra []string
	if p.MemoryLimit != "" {
		extra = append(extra, "PGC_MEMORY_LIMIT="+p.MemoryLimit)
	}
	r.CollectorSettings = "default settings"
	if len(extra) > 0 {
		r.CollectorSettings = fmt.Sprintf("default settings except %s", strings.Join(extra, " "))
	}
	c, err := bench.NewCollector(bin, dir, dsURL, extra...)
	if err != nil {
		return err
	}
	if _, err := c.Run(ctx, "migrate"); err != nil {
		return err
	}
	ds, err := pgxpool.New(ctx, dsURL)
	if err != nil {
		return err
	}
	defer ds.Close()
	targets := make([]bench.Target, len(f.Clusters))
	for i, cl := range f.Clusters {
		targets[i] = bench.Target{Host: cl.Host, Port: cl.Port}
	}
	if err := bench.Register(ctx, ds, c.SecretFile, targets, p.Servers); err != nil {
		return err
	}
	if err := bench.SetIntervals(ctx, ds, bench.Intervals(p.Factor)); err != nil {
		return err
	}
	load, err := bench.NewLoad(ctx, f, p.LoadRate)
	if err != nil {
		return err
	}
	defer load.Close()
	load.Start(ctx)
	mon, err := bench.NewMonitored(ctx, f)
	if err != nil {
		return err
	}
	defer mon.Close()

	pr.say("monitored clusters with the load only, for %s", p.IdleMeasure)
	s0, err := mon.Sample(ctx)
	if err != nil {
		return err
	}
	time.Sleep(p.IdleMeasure)
	s1, err := mon.Sample(ctx)
	if err != nil {
		return err
	}
	r.IdleCPU = (s1.CPU - s0.CPU).Seconds() / s1.At.Sub(s0.At).Seconds()

	// As many other sessions as the collector will hold on the cluster:
	// one per database of each of its servers.
	others := len(f.Databases())*p.Servers/len(f.Clusters) - 1
	pr.say("each probe alone on one cluster (%d other sessions), %d runs", others, p.ProbeCostRuns)
	if r.ProbeCosts, err = bench.MeasureProbeCosts(ctx, f.Clusters[0], f.Databases(), others, p.ProbeCostRuns); err != nil {
		r.Notes = append(r.Notes, fmt.Sprintf("probes measured alone: %v", err))
	}

	pr.say("pgcollector run: %d servers, %s", p.Servers, bench.CompressedNote(p.Factor))
	started := time.Now()
	if err := c.Start(); err != nil {
		return err
	}
	defer func() {
		if code := c.Stop(30 * time.Second); code != 0 {
			r.Notes = append(r.Notes, fmt.Sprintf("pgcollector run exited %d after SIGTERM", code))
		}
	}()
	w, err := bench.NewWatch(ctx, c.NatsAddr)
	if err != nil {
		return err
	}
	defer w.Close()
	pr.say("warm-up (at least %s, at most %s), then a %s window", p.MinWarmup, p.MaxWarmup, p.Window)
	r.Steady, err = bench.MeasureSteady(ctx, c, w, mon, ds, started, bench.SteadyOptions{
		MinWarmup: p.MinWarmup, MaxWarmup: p.MaxWarmup, Window: p.Window, Settle: p.Settle,
		Profile: func(ctx context.Context) {
			// The profile sits in the middle of the window.
			if !sleep(ctx, (p.Window-p.ProfileFor)/2) {
				return
			}
			r.CPUProfile = bench.FetchProfile(ctx, c.PprofAddr, bin, out, "collector-cpu.pprof",
				fmt.Sprintf("profile?seconds=%d", int(p.ProfileFor.Seconds())))
		},
	})
	if err != nil {
		return err
	}
	r.HeapProf = bench.FetchProfile(ctx, c.PprofAddr, bin, out, "collector-heap.pprof", "heap", "-sample_index=inuse_space")
	done, failed := load.Statements()
	r.Notes = append(r.Notes, fmt.Sprintf("load loop: %d statements, %d failed; collector log: %s", done, failed, c.LogPath))
	pr.say("steady: %.0f rows/s, %.2f s CPU per 1M rows, lag p99 %s", r.Steady.RowsPerSecond, r.Steady.CPUPerMillion, r.Steady.Lag.P99)

	if p.skip("drain") {
		return nil
	}
	// Keep the outage's backlog well inside the buffer: a full buffer
	// pauses collection, which is another test.
	outage := p.Outage
	if r.Steady.BufferBytesPerS > 0 {
		limit := time.Duration(0.4 * float64(config.Default[bus.Config]().BufferMaxBytes) / r.Steady.BufferBytesPerS * float64(time.Second))
		if limit < outage {
			r.Notes = append(r.Notes, fmt.Sprintf("outage shortened from %s to %s to stay within 40%% of PGC_BUFFER_MAX_BYTES", outage, limit.Round(time.Second)))
			outage = limit
		}
	}
	pr.say("datastore stopped for %s, then restarted: backlog drain", outage.Round(time.Second))
	r.Drain, err = bench.MeasureDrain(ctx, c, w, f.Datastore, ds, started, bench.DrainOptions{Outage: outage, MaxDrain: p.MaxDrain})
	if err != nil {
		r.DrainErr = err.Error()
		return err
	}
	pr.say("drain: %.0f rows/s", r.Drain.RowsPerSecond)
	return nil
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
