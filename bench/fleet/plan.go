package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/pgcollector/pgcollector/bench"
)

// plan sizes one run. The full run simulates 1,000 servers at the
// catalogue's default intervals; the short one (BENCH_SHORT=1) 50 servers
// with every interval divided by 10, which asks the collector for the jobs
// and rows per second of 500 servers in a fraction of the time.
type plan struct {
	Servers, Clusters, Factor int
	Content                   bench.Content
	LoadRate                  float64 // load statements per second over the fleet

	SinkRows, SinkRounds int
	GoBenchtime          string
	BaselineFor          time.Duration
	BaselineWorkers      int

	IdleMeasure          time.Duration
	ProbeCostRuns        int // runs per probe and database when measuring probes alone
	MinWarmup, MaxWarmup time.Duration
	Window, Settle       time.Duration
	ProfileFor           time.Duration
	Outage, MaxDrain     time.Duration
	MemoryLimit          string          // PGC_MEMORY_LIMIT of the collector; BENCH_MEMORY_LIMIT overrides it
	Skip                 map[string]bool // BENCH_SKIP: phases left out while working on another
	Storage              bench.StoragePlan
}

// skip reports whether BENCH_SKIP names the phase (gobench, sink,
// baseline, drain, storage).
func (p plan) skip(phase string) bool { return p.Skip[phase] }

func fullPlan() plan {
	return plan{
		// 100 simulated servers per cluster: every server on a cluster
		// sees the collector's sessions of all the others in
		// pg_stat_activity, so fewer servers per cluster keep those
		// probes nearer the row counts of a real server.
		Servers: 1000, Clusters: 10, Factor: 1,
		Content:  bench.Content{AppDatabases: 2, Tables: 300, Functions: 20},
		LoadRate: 50,
		SinkRows: 1_000_000, SinkRounds: 2, GoBenchtime: "1s",
		BaselineFor: 60 * time.Second, BaselineWorkers: 4,
		IdleMeasure: 20 * time.Second, ProbeCostRuns: 20,
		// Every server opens its first sessions at start, and every
		// (connection, probe) catches its current slot up within half an
		// interval, at most five minutes: the window waits for that to
		// settle.
		MinWarmup: 6 * time.Minute, MaxWarmup: 10 * time.Minute,
		// One window covers a whole cycle of the 300 s probes, which
		// carry most rows; probe offsets spread every probe's runs evenly.
		Window: 5 * time.Minute, Settle: 5 * time.Second,
		ProfileFor: 30 * time.Second,
		Outage:     2 * time.Minute, MaxDrain: 10 * time.Minute,
		// The goal is 200 MB of RSS for 1,000 servers; the soft limit is
		// what keeps the heap from growing to twice what is live, and its
		// price shows in the CPU per row. RSS also counts the binary's
		// pages and what the runtime has not yet returned, hence below 200.
		MemoryLimit: "160MiB",
		Storage:     bench.FullStoragePlan(),
	}
}

func shortPlan() plan {
	return plan{
		Servers: 50, Clusters: 3, Factor: 10,
		Content:  bench.Content{AppDatabases: 2, Tables: 150, Functions: 10},
		LoadRate: 50,
		SinkRows: 150_000, SinkRounds: 1, GoBenchtime: "100ms",
		BaselineFor: 10 * time.Second, BaselineWorkers: 4,
		IdleMeasure: 5 * time.Second, ProbeCostRuns: 5,
		MinWarmup: 20 * time.Second, MaxWarmup: 50 * time.Second,
		Window: 40 * time.Second, Settle: 3 * time.Second,
		ProfileFor: 15 * time.Second,
		Outage:     15 * time.Second, MaxDrain: 90 * time.Second,
		MemoryLimit: "160MiB",
		Storage:     bench.ShortStoragePlan(),
	}
}

// overrides applies BENCH_SERVERS, BENCH_FACTOR, BENCH_WINDOW and
// BENCH_OUTAGE, for runs sized by hand.
func (p *plan) overrides() error {
	ints := map[string]*int{"BENCH_SERVERS": &p.Servers, "BENCH_FACTOR": &p.Factor, "BENCH_CLUSTERS": &p.Clusters}
	for k, dst := range ints {
		if v := os.Getenv(k); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return fmt.Errorf("%s: want a positive integer, got %q", k, v)
			}
			*dst = n
		}
	}
	p.Skip = map[string]bool{}
	for _, ph := range strings.Split(os.Getenv("BENCH_SKIP"), ",") {
		switch ph = strings.TrimSpace(ph); ph {
		case "":
		case "gobench", "sink", "baseline", "drain", "storage", "fleet":
			p.Skip[ph] = true
		default:
			return fmt.Errorf("BENCH_SKIP: unknown phase %q (gobench, sink, baseline, fleet, drain, storage)", ph)
		}
	}
	if err := p.Storage.Overrides(); err != nil {
		return err
	}
	if v, ok := os.LookupEnv("BENCH_MEMORY_LIMIT"); ok {
		p.MemoryLimit = v
	}
	durs := map[string]*time.Duration{"BENCH_WINDOW": &p.Window, "BENCH_OUTAGE": &p.Outage}
	for k, dst := range durs {
		if v := os.Getenv(k); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return fmt.Errorf("%s: want a duration such as 90s, got %q", k, v)
			}
			*dst = d
		}
	}
	return nil
}
