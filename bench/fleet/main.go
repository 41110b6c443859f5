// Command fleet is `make bench`: it starts one real PostgreSQL cluster per
// major (14–18) and the datastore, measures each probe's cost on a real
// cluster, then runs the real `pgcollector run` binary against fleets of
// 1,000, 5,000 and 10,000 servers simulated on the wire protocol
// (bench/fleetsim, answering from recordings of those clusters) and
// measures it (slots due vs sampled, rows/s, CPU per stored row, peak RSS,
// ingest lag, backlog drain after a datastore outage, the ceiling), and the
// simulator's own CPU apart; it compares the sink with a plain COPY of the
// same rows and the collector with a plain "query, decode, re-encode,
// insert" loop, runs the Go benchmarks of the hot spots, prints a table and
// writes BENCH.md. Its last line is the one-line summary.
//
// BENCH_SHORT=1 runs 200 and 1,000 servers with compressed intervals in
// about five minutes. BENCH_SCALES (e.g. 1000,2000), BENCH_CEILING_STEPS, BENCH_FACTOR,
// BENCH_WINDOW and BENCH_OUTAGE resize a run; BENCH_MEMORY_LIMIT sets the
// collector's PGC_MEMORY_LIMIT for fleets up to 1,000 servers (default
// 160MiB, empty: the product default); BENCH_SKIP=gobench,sink,baseline,drain,storage
// leaves phases out; BENCH_STORAGE_* size the datastore-cost phase
// (bench/storage, docs/storage-cost.md), which runs last; BENCH_OUT keeps
// profiles and logs in a directory of your choice (default: a new directory under $TMPDIR); BENCH_OVERLAY adds
// a `go build -overlay` file to the collector's build, to measure a patch
// without changing the tree. `fleet fleetsim <config.json>` is the
// simulator's process, `fleet render <report.json>` writes BENCH.md again
// from a saved run.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/pgcollector/pgcollector/bench"
	"github.com/pgcollector/pgcollector/internal/e2e"
)

func main() {
	if len(os.Args) == 3 && os.Args[1] == "baseline" {
		if err := baselineChild(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, "baseline:", err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) == 3 && os.Args[1] == "fleetsim" {
		if err := simChild(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, "fleetsim:", err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) == 3 && os.Args[1] == "render" {
		// Renders a saved report.json again, e.g. after the wording of
		// BENCH.md changed, without measuring anything.
		if err := render(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, "render:", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	short := os.Getenv("BENCH_SHORT") != "" && os.Getenv("BENCH_SHORT") != "0"
	p := fullPlan()
	cmd := "make bench"
	if short {
		p, cmd = shortPlan(), "BENCH_SHORT=1 make bench"
	}
	if err := p.overrides(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	for _, k := range []string{"BENCH_SCALES", "BENCH_CEILING_STEPS", "BENCH_FACTOR", "BENCH_WINDOW", "BENCH_OUTAGE", "BENCH_SKIP", "BENCH_OVERLAY", "BENCH_MEMORY_LIMIT",
		"BENCH_STORAGE_SHAPES", "BENCH_STORAGE_RUNS", "BENCH_STORAGE_INTERVAL", "BENCH_STORAGE_TOUCH", "BENCH_STORAGE_COPY_RUNS", "BENCH_STORAGE_SETTINGS"} {
		if v := os.Getenv(k); v != "" {
			cmd = fmt.Sprintf("%s=%q %s", k, v, cmd)
		}
	}
	r, err := run(ctx, p, short, cmd)
	if r != nil {
		if r.OutDir != "" {
			if raw, jerr := json.MarshalIndent(r, "", "  "); jerr == nil {
				_ = os.WriteFile(filepath.Join(r.OutDir, "report.json"), raw, 0o644)
			}
		}
		output(r)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// progress prints a phase line with the time since start.
type progress struct{ start time.Time }

func (p progress) say(format string, args ...any) {
	fmt.Printf("== [%5.0fs] %s\n", time.Since(p.start).Seconds(), fmt.Sprintf(format, args...))
}

// baselineChild runs the plain loop in its own process, so that its CPU
// is measured alone, and prints the result as JSON.
func baselineChild(configFile string) error {
	raw, err := os.ReadFile(configFile)
	if err != nil {
		return err
	}
	var cfg bench.BaselineConfig
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := bench.RunBaseline(ctx, cfg)
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

// output prints the table, writes BENCH.md and prints the summary line,
// which comes last.
func output(r *bench.Report) {
	r.Table(os.Stdout)
	if err := writeMarkdown(r); err != nil {
		fmt.Fprintln(os.Stderr, "bench: write BENCH.md:", err)
	}
	fmt.Println()
	fmt.Println(r.Line())
}

// render prints and writes a saved report again.
func render(path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var r bench.Report
	if err := json.Unmarshal(raw, &r); err != nil {
		return err
	}
	output(&r)
	return nil
}

// writeMarkdown writes BENCH.md at the module root.
func writeMarkdown(r *bench.Report) error {
	root, err := e2e.ModuleRoot()
	if err != nil {
		return err
	}
	var b strings.Builder
	r.Markdown(&b)
	return os.WriteFile(filepath.Join(root, "BENCH.md"), []byte(b.String()), 0o644)
}
