// Command storage runs the datastore-cost phase of `make bench` alone
// (bench.RunStorage): for each server shape it starts a monitored cluster,
// collects it with the real `pgcollector run` binary at a compressed
// interval, one collector per settings variant, while writing to a
// fraction of the tables, reads every probe's partition sizes and rows,
// scales them to a server-day at the catalogue's default intervals,
// compares the two column orders and btree with BRIN, prints the result
// and writes it into BENCH.md's "## Datastore cost" section, leaving the
// rest of BENCH.md as it is.
//
// BENCH_SHORT=1 measures the small shapes; BENCH_STORAGE_SHAPES,
// BENCH_STORAGE_RUNS, BENCH_STORAGE_INTERVAL, BENCH_STORAGE_TOUCH,
// BENCH_STORAGE_COPY_RUNS and BENCH_STORAGE_SETTINGS (variants separated
// by ";", e.g. "PGC_SINK_DEDUP=false; PGC_SINK_DEDUP=true") resize a run;
// BENCH_STORAGE_OUT names a file to write instead of BENCH.md.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/pgcollector/pgcollector/bench"
	"github.com/pgcollector/pgcollector/internal/e2e"
	"github.com/pgcollector/pgcollector/internal/pgtest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "bench/storage:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	p := bench.FullStoragePlan()
	if v := os.Getenv("BENCH_SHORT"); v != "" && v != "0" {
		p = bench.ShortStoragePlan()
	}
	if err := p.Overrides(); err != nil {
		fmt.Fprintln(os.Stderr, "bench/storage:", err)
		os.Exit(2)
	}
	dir, err := os.MkdirTemp("", "pgc-bench-storage-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	say := func(f string, a ...any) {
		fmt.Printf("%s  "+f+"\n", append([]any{time.Now().Format("15:04:05")}, a...)...)
	}
	say("building pgcollector")
	bin, err := e2e.Build(ctx, dir)
	if err != nil {
		return err
	}
	ds, err := pgtest.StartCluster(ctx, pgtest.Options{Settings: bench.StorageDatastoreSettings})
	if err != nil {
		return err
	}
	defer ds.Close()
	rep := bench.RunStorage(ctx, ds, bin, dir, p, say)
	md := rep.Markdown()
	fmt.Println(md)
	out := os.Getenv("BENCH_STORAGE_OUT")
	if out == "" {
		root, err := e2e.ModuleRoot()
		if err != nil {
			return err
		}
		out = filepath.Join(root, "BENCH.md")
	}
	if err := bench.ReplaceSection(out, md); err != nil {
		return err
	}
	for _, l := range rep.Lines() {
		fmt.Println("storage:", l)
	}
	if rep.Err != "" {
		return fmt.Errorf("%s", rep.Err)
	}
	return nil
}
