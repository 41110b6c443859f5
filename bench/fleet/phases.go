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
	"github.com/pgcollector/pgcollector/bench/fleetsim"
	"github.com/pgcollector/pgcollector/bus"

	"github.com/pgcollector/pgcollector/internal/config"
)

// fleetPhases measures the real clusters alone (what one server's probes
// cost the monitored side), then starts the simulator in front of them and
// collects each fleet size of the plan from it: the first with a CPU
// profile and the backlog drain.
// ceilingGranularity is the step of the ceiling search, in servers.
const ceilingGranularity = 250

func fleetPhases(ctx context.Context, pr progress, r *bench.Report, f *bench.Fleet, bin string, p plan, out string) error {
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

	// As many other sessions as a collector of 100 servers per cluster
	// holds: one per database of each.
	others := len(f.Databases())*100 - 1
	pr.say("each probe alone on one cluster (%d other sessions), %d runs", others, p.ProbeCostRuns)
	if r.ProbeCosts, err = bench.MeasureProbeCosts(ctx, f.Clusters[0], f.Databases(), others, p.ProbeCostRuns); err != nil {
		r.Notes = append(r.Notes, fmt.Sprintf("probes measured alone: %v", err))
	}

	self, err := os.Executable()
	if err != nil {
		return err
	}
	simDir := filepath.Join(out, "fleetsim")
	if err := os.MkdirAll(simDir, 0o755); err != nil {
		return err
	}
	sim, err := bench.StartSim(ctx, self, fleetsim.Config{Listen: "127.0.0.1:0", Password: bench.MonitorPassword,
		Upstreams: bench.SimUpstreams(f), RecheckAfter: p.Recheck}, simDir)
	if err != nil {
		return err
	}
	defer sim.Stop()
	pr.say("fleet simulator on %s:%d, recording from %d clusters", sim.Host, sim.Port, len(f.Clusters))
	for i, n := range p.Scales {
		step, err := scaleStep(ctx, pr, r, f, sim, mon, bin, p, out, n, i == 0)
		if err != nil {
			step.Err = err.Error()
			r.Notes = append(r.Notes, fmt.Sprintf("%d servers: %v", n, err))
		}
		r.Scales = append(r.Scales, step)
		if i == 0 {
			r.Steady = step.Steady
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	// Between the largest size that held and the next that did not, the
	// ceiling is somewhere: try halfway, CeilingSteps times.
	for range p.CeilingSteps {
		n, ok := bench.NextCeilingSize(r.Scales, ceilingGranularity)
		if !ok {
			break
		}
		pr.say("ceiling search: %d servers", n)
		step, err := scaleStep(ctx, pr, r, f, sim, mon, bin, p, out, n, false)
		if err != nil {
			step.Err = err.Error()
			r.Notes = append(r.Notes, fmt.Sprintf("%d servers: %v", n, err))
		}
		r.Scales = append(r.Scales, step)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	done, failed := load.Statements()
	r.Notes = append(r.Notes, fmt.Sprintf("load loop: %d statements, %d failed; simulator log: %s", done, failed, filepath.Join(simDir, "fleetsim.log")))
	return nil
}

// scaleStep runs one collector against n simulated servers: warm-up, a
// window, and for the first step a CPU profile and the drain.
func scaleStep(ctx context.Context, pr progress, r *bench.Report, f *bench.Fleet, sim *bench.SimProcess, mon *bench.Monitored,
	bin string, p plan, out string, n int, first bool) (bench.ScaleStep, error) {
	step := bench.ScaleStep{Servers: n}
	dbName := fmt.Sprintf("pgc_%d", n)
	if err := f.CreateDatastoreDatabase(ctx, dbName); err != nil {
		return step, err
	}
	dsURL := f.Datastore.DSN(dbName)
	dir := filepath.Join(out, fmt.Sprintf("collector-%d", n))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return step, err
	}
	// The buffer's files can reach PGC_BUFFER_MAX_BYTES: remove them, keep
	// the log.
	defer os.RemoveAll(filepath.Join(dir, "data"))
	extra := p.settingsFor(n)
	step.Settings = "default settings"
	if len(extra) > 0 {
		step.Settings = "default settings except " + strings.Join(extra, " ")
	}
	if first {
		r.CollectorSettings = step.Settings
	}
	c, err := bench.NewCollector(bin, dir, dsURL, extra...)
	if err != nil {
		return step, err
	}
	if _, err := c.Run(ctx, "migrate"); err != nil {
		return step, err
	}
	ds, err := pgxpool.New(ctx, dsURL)
	if err != nil {
		return step, err
	}
	defer ds.Close()
	if err := bench.RegisterSim(ctx, ds, c.SecretFile, sim.Host, sim.Port, n); err != nil {
		return step, err
	}
	if err := bench.SetIntervals(ctx, ds, bench.Intervals(p.Factor)); err != nil {
		return step, err
	}
	minW, maxW, win := p.MinWarmup, p.MaxWarmup, p.Window
	if !first {
		minW, maxW, win = p.ScaleMinWarmup, p.ScaleMaxWarmup, p.ScaleWindow
	}
	pr.say("pgcollector run: %d simulated servers, %s (%s)", n, bench.CompressedNote(p.Factor), step.Settings)
	started := time.Now()
	if err := c.Start(); err != nil {
		return step, err
	}
	defer func() {
		if code := c.Stop(30 * time.Second); code != 0 {
			r.Notes = append(r.Notes, fmt.Sprintf("%d servers: pgcollector run exited %d after SIGTERM", n, code))
		}
	}()
	w, err := bench.NewWatch(ctx, c.NatsAddr)
	if err != nil {
		return step, err
	}
	defer w.Close()
	var simCPU0 time.Duration
	pr.say("warm-up (at least %s, at most %s), then a %s window", minW, maxW, win)
	opts := bench.SteadyOptions{MinWarmup: minW, MaxWarmup: maxW, Window: win, Settle: p.Settle,
		OnStart: func() {
			simCPU0, _ = bench.ProcessCPU(sim.Pid())
			step.SimBefore, _ = sim.Stats(ctx)
		},
		OnEnd: func() {
			cpu, _ := bench.ProcessCPU(sim.Pid())
			step.SimCPU = cpu - simCPU0
			step.SimAfter, _ = sim.Stats(ctx)
		}}
	last := n == p.Scales[len(p.Scales)-1]
	if first || last {
		name := fmt.Sprintf("collector-cpu-%d.pprof", n)
		opts.Profile = func(ctx context.Context) {
			// The profile sits in the middle of the window.
			if !sleep(ctx, (win-p.ProfileFor)/2) {
				return
			}
			prof := bench.FetchProfile(ctx, c.PprofAddr, bin, out, name, fmt.Sprintf("profile?seconds=%d", int(p.ProfileFor.Seconds())))
			if first {
				r.CPUProfile = prof
			} else {
				r.CPUProfileLargest = prof
			}
		}
	}
	step.Steady, err = bench.MeasureSteady(ctx, c, w, mon, ds, started, opts)
	step.Due = bench.SlotsDue(n, p.Factor, step.Steady.End.Sub(step.Steady.Start))
	if err != nil {
		return step, err
	}
	if first {
		r.HeapProf = bench.FetchProfile(ctx, c.PprofAddr, bin, out, "collector-heap.pprof", "heap", "-sample_index=inuse_space")
	}
	s := step.Steady
	pr.say("%d servers: %.0f rows/s, %.1f µs CPU per row (%.2f cores), stale %d, lag p99 %s; simulator %.2f µs per row",
		n, s.RowsPerSecond, s.CPUPerMillion, step.Cores(), s.Stale, s.Lag.P99, step.SimMicrosPerRow())
	if !first || p.skip("drain") {
		return step, nil
	}
	// Keep the outage's backlog well inside the buffer: a full buffer
	// pauses collection, which is another test.
	outage := p.Outage
	if s.BufferBytesPerS > 0 {
		limit := time.Duration(0.4 * float64(config.Default[bus.Config]().BufferMaxBytes) / s.BufferBytesPerS * float64(time.Second))
		if limit < outage {
			r.Notes = append(r.Notes, fmt.Sprintf("outage shortened from %s to %s to stay within 40%% of PGC_BUFFER_MAX_BYTES", outage, limit.Round(time.Second)))
			outage = limit
		}
	}
	pr.say("datastore stopped for %s, then restarted: backlog drain", outage.Round(time.Second))
	r.Drain, err = bench.MeasureDrain(ctx, c, w, f.Datastore, ds, started, bench.DrainOptions{Outage: outage, MaxDrain: p.MaxDrain})
	if err != nil {
		r.DrainErr = err.Error()
		return step, err
	}
	pr.say("drain: %.0f rows/s", r.Drain.RowsPerSecond)
	return step, nil
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
