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
	// Scales are the fleet sizes collected from the simulator, in
	// order; the first gets the profile, the drain and the goals.
	Scales []int
	// CeilingSteps is how many more sizes are tried, each halfway between
	// the largest size that held and the smallest larger one that did
	// not (BENCH_CEILING_STEPS).
	CeilingSteps                   int
	Versions                       []int // majors of the real clusters behind the simulator
	ScaleMinWarmup, ScaleMaxWarmup time.Duration
	ScaleWindow                    time.Duration
	Recheck                        time.Duration // the simulator's second recording, which finds the counters
	Content                        bench.Content
	LoadRate                       float64 // load statements per second over the fleet

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
		Servers: 1000, Clusters: 5, Factor: 1,
		Scales: []int{1000, 5000, 10000}, CeilingSteps: 2, Versions: []int{14, 15, 16, 17, 18},
		// The longer-interval probes catch their first slot up within
		// at most five minutes of start: every window begins after that.
		ScaleMinWarmup: 5*time.Minute + 30*time.Second, ScaleMaxWarmup: 6 * time.Minute, ScaleWindow: 3 * time.Minute,
		Recheck:  60 * time.Second,
		Content:  bench.Content{AppDatabases: 2, Tables: 300, Functions: 20},
		LoadRate: 50,
		SinkRows: 1_000_000, SinkRounds: 2, GoBenchtime: "1s",
		BaselineFor: 60 * time.Second, BaselineWorkers: 4,
		IdleMeasure: 20 * time.Second, ProbeCostRuns: 20,
		// Every server opens its first sessions at start, and every
		// (connection, probe) catches its current slot up within half an
		// interval, at most five minutes: the window waits for that to
		// settle.
		MinWarmup: 5*time.Minute + 30*time.Second, MaxWarmup: 7 * time.Minute,
		// One window covers a whole cycle of the 300 s probes, which
		// carry most rows; probe offsets spread every probe's runs evenly.
		Window: 4 * time.Minute, Settle: 5 * time.Second,
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
		Servers: 200, Clusters: 5, Factor: 10,
		Scales: []int{200, 1000}, Versions: []int{14, 15, 16, 17, 18},
		ScaleMinWarmup: 20 * time.Second, ScaleMaxWarmup: 40 * time.Second, ScaleWindow: 30 * time.Second,
		Recheck:  10 * time.Second,
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

// overrides applies BENCH_SCALES, BENCH_FACTOR, BENCH_WINDOW and
// BENCH_OUTAGE, for runs sized by hand.
func (p *plan) overrides() error {
	if v := os.Getenv("BENCH_SCALES"); v != "" {
		p.Scales = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 {
				return fmt.Errorf("BENCH_SCALES: want fleet sizes such as 1000,5000, got %q", v)
			}
			p.Scales = append(p.Scales, n)
		}
		p.Servers = p.Scales[0]
	}
	if v := os.Getenv("BENCH_CEILING_STEPS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fmt.Errorf("BENCH_CEILING_STEPS: want a count of fleet sizes, 0 or more, got %q", v)
		}
		p.CeilingSteps = n
	}
	ints := map[string]*int{"BENCH_FACTOR": &p.Factor}
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

// settingsFor is the collector's settings for a fleet of n servers. Up to
// 1,000 servers the memory limit of the 200 MB goal; above, the product
// default. Above 4,000 servers the sessions to a server's other databases
// close after their burst (PGC_MONITORED_OTHER_DB_IDLE_TIMEOUT), since
// three held sessions per server would pass the 20,000 open files a
// process may have here.
func (p plan) settingsFor(n int) []string {
	var extra []string
	if p.MemoryLimit != "" && n <= 1000 {
		extra = append(extra, "PGC_MEMORY_LIMIT="+p.MemoryLimit)
	}
	if n > 4000 {
		extra = append(extra, "PGC_MONITORED_OTHER_DB_IDLE_TIMEOUT=20s")
	}
	return extra
}
