package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/sync/errgroup"

	"github.com/pgcollector/pgcollector/bench"
	"github.com/pgcollector/pgcollector/internal/store"
	"github.com/pgcollector/pgcollector/probes"
)

// run does every phase and returns the report, as complete as the phases
// that worked allow, and the first error of a phase that did not.
func run(ctx context.Context, p plan, short bool, command string) (*bench.Report, error) {
	pr := progress{start: time.Now()}
	r := &bench.Report{Date: time.Now(), Command: command, Short: short, Machine: bench.ReadMachine(),
		Servers: p.Servers, Clusters: p.Clusters, Content: p.Content, Factor: p.Factor}
	defer func() { r.Took, r.LoadEnd = time.Since(pr.start), bench.LoadAvg() }()
	out := os.Getenv("BENCH_OUT")
	if out == "" {
		var err error
		if out, err = os.MkdirTemp("", "pgcollector-bench-"); err != nil {
			return nil, err
		}
	} else if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	r.OutDir = out
	pr.say("profiles, logs and report.json go to %s", out)

	pr.say("starting %d monitored clusters (%d app databases × %d tables each) and the datastore; building pgcollector",
		p.Clusters, p.Content.AppDatabases, p.Content.Tables)
	var fleet *bench.Fleet
	var bin string
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		fleet, err = bench.StartFleet(gctx, bench.FleetOptions{Clusters: p.Clusters, Content: p.Content,
			MaxConnections: 700, Nice: bench.MonitoredNice, Versions: p.Versions})
		return err
	})
	g.Go(func() (err error) { bin, err = bench.BuildCollector(gctx, out); return err })
	if err := g.Wait(); err != nil {
		if fleet != nil {
			_ = fleet.Close()
		}
		return r, err
	}
	defer fleet.Close()
	for i, c := range fleet.Clusters {
		if i > 0 {
			r.Versions += ", "
		}
		r.Versions += fmt.Sprint(c.Major)
	}
	r.Machine.Postgres = fmt.Sprintf("%d.%d", fleet.Datastore.Version/10000, fleet.Datastore.Version%10000)

	var errs []error
	note := func(phase string, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", phase, err))
			r.Notes = append(r.Notes, fmt.Sprintf("%s failed: %v", phase, err))
		}
	}

	if !p.skip("gobench") {
		pr.say("Go benchmarks of the hot spots (-benchtime %s)", p.GoBenchtime)
		lines, err := bench.GoBench(ctx, out, p.GoBenchtime, !short)
		r.GoBench = lines
		note("go test -bench", err)
	}
	if !p.skip("sink") {
		pr.say("sink vs plain COPY: %d rows, %d round(s)", p.SinkRows, p.SinkRounds)
		if tmpls, err := bench.CaptureTemplates(ctx, fleet); err != nil {
			note("sink benchmark", err)
		} else {
			r.Sink, err = bench.SinkVsRaw(ctx, fleet, tmpls, p.SinkRows, p.SinkRounds, out)
			note("sink benchmark", err)
		}
	}
	if !p.skip("baseline") {
		pr.say("plain query-decode-encode-insert loop for %s", p.BaselineFor)
		var err error
		r.Baseline, err = runBaseline(ctx, fleet, p, out)
		note("plain loop", err)
	}
	if !p.skip("fleet") {
		note("fleet", fleetPhases(ctx, pr, r, fleet, bin, p, out))
	}
	if !p.skip("storage") {
		// After the fleet, so that its clusters and collectors do not
		// share the machine with the fleet's measurement.
		pr.say("datastore cost: %d shape(s)", len(p.Storage.Shapes))
		dir := filepath.Join(out, "storage")
		r.Storage = bench.RunStorage(ctx, fleet.Datastore, bin, dir, p.Storage, pr.say)
		if r.Storage.Err != "" {
			note("datastore cost", errors.New(r.Storage.Err))
		}
		_ = os.RemoveAll(filepath.Join(dir))
	}
	pr.say("done")
	return r, errors.Join(errs...)
}

// runBaseline starts this program again as the plain loop, so its CPU is
// its own.
func runBaseline(ctx context.Context, f *bench.Fleet, p plan, out string) (bench.BaselineResult, error) {
	var res bench.BaselineResult
	if err := f.CreateDatastoreDatabase(ctx, "baseline"); err != nil {
		return res, err
	}
	dsn := f.Datastore.DSN("baseline")
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return res, err
	}
	defer pool.Close()
	if err := store.Migrate(ctx, pool, probes.All); err != nil {
		return res, err
	}
	for _, pb := range probes.All {
		if err := store.EnsurePartition(ctx, pool, pb.Name, time.Now()); err != nil {
			return res, err
		}
	}
	cfg := bench.BaselineConfig{Databases: f.Databases(), Servers: p.Servers, Intervals: bench.Intervals(p.Factor),
		Datastore: dsn, Duration: p.BaselineFor, Workers: p.BaselineWorkers}
	for _, c := range f.Clusters {
		cfg.Targets = append(cfg.Targets, bench.Target{Host: c.Host, Port: c.Port})
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		return res, err
	}
	cfgFile := filepath.Join(out, "baseline.json")
	if err := os.WriteFile(cfgFile, raw, 0o600); err != nil {
		return res, err
	}
	self, err := os.Executable()
	if err != nil {
		return res, err
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, self, "baseline", cfgFile)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return res, fmt.Errorf("%v: %s", err, stderr.String())
	}
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		return res, fmt.Errorf("read its result %q: %w", stdout.String(), err)
	}
	return res, nil
}
