// Command storage measures the datastore cost for `make bench`: for each
// server shape (the bench fleet's 2 databases × 300 tables, and 20
// databases × 500 tables) it starts a monitored cluster, collects it with
// the real `pgcollector run` binary at a compressed interval while writing
// to a fraction of the tables, reads every probe's partition sizes and row
// counts from the datastore, scales them to a server-day at the
// catalogue's default intervals, compares a btree with a BRIN index on a
// copy of pg_stat_all_tables, prints the result and writes it into
// BENCH.md's "## Datastore cost" section (the rest of BENCH.md is left as
// it is).
//
// BENCH_STORAGE_SHAPES (default fleet,big), BENCH_STORAGE_RUNS (runs of
// the per-table probe, default 8), BENCH_STORAGE_INTERVAL (default 10s),
// BENCH_STORAGE_TOUCH (fraction of tables written between runs, default
// 0.05), BENCH_STORAGE_COPY_RUNS (runs in the index copy, default 24) and
// BENCH_STORAGE_SETTINGS (space-separated KEY=VALUE collector settings)
// resize a run; BENCH_STORAGE_OUT names a file to write instead of BENCH.md.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pgcollector/pgcollector/bench"
	"github.com/pgcollector/pgcollector/internal/e2e"
	"github.com/pgcollector/pgcollector/internal/pgtest"
)

var shapes = map[string]bench.StorageShape{
	"fleet": {Name: "fleet", Content: bench.Content{AppDatabases: 2, Tables: 300, Functions: 20}},
	"big":   {Name: "big", Content: bench.Content{AppDatabases: 20, Tables: 500, Functions: 20}},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "bench/storage:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	o := bench.StorageOptions{Interval: 10 * time.Second, Runs: 8, Touch: 0.05, CopyRuns: 24}
	var err error
	if o.Interval, err = envDuration("BENCH_STORAGE_INTERVAL", o.Interval); err != nil {
		return err
	}
	if o.Runs, err = envInt("BENCH_STORAGE_RUNS", o.Runs); err != nil {
		return err
	}
	if o.CopyRuns, err = envInt("BENCH_STORAGE_COPY_RUNS", o.CopyRuns); err != nil {
		return err
	}
	if v := os.Getenv("BENCH_STORAGE_TOUCH"); v != "" {
		if o.Touch, err = strconv.ParseFloat(v, 64); err != nil || o.Touch <= 0 || o.Touch > 1 {
			return fmt.Errorf("BENCH_STORAGE_TOUCH: want a fraction in (0, 1], got %q", v)
		}
	}
	o.Extra = strings.Fields(os.Getenv("BENCH_STORAGE_SETTINGS"))
	names := strings.Split(envOr("BENCH_STORAGE_SHAPES", "fleet,big"), ",")
	for _, n := range names {
		if _, ok := shapes[n]; !ok {
			return fmt.Errorf("BENCH_STORAGE_SHAPES: unknown shape %q (fleet, big)", n)
		}
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
	if o.Bin, err = e2e.Build(ctx, dir); err != nil {
		return err
	}
	o.Dir = dir
	ds, err := pgtest.StartCluster(ctx, pgtest.Options{Settings: map[string]string{
		"max_connections": "100", "shared_buffers": "256MB", "max_wal_size": "4GB"}})
	if err != nil {
		return err
	}
	defer ds.Close()
	var rs []*bench.StorageResult
	for _, n := range names {
		r, err := bench.MeasureStorage(ctx, ds, shapes[n], o, say)
		if err != nil {
			return err
		}
		rs = append(rs, r)
	}
	cmd := "make bench"
	for _, k := range []string{"BENCH_STORAGE_SHAPES", "BENCH_STORAGE_RUNS", "BENCH_STORAGE_INTERVAL", "BENCH_STORAGE_TOUCH", "BENCH_STORAGE_COPY_RUNS", "BENCH_STORAGE_SETTINGS"} {
		if v := os.Getenv(k); v != "" {
			cmd = fmt.Sprintf("%s=%q %s", k, v, cmd)
		}
	}
	settings := "default collector settings"
	if len(o.Extra) > 0 {
		settings = "collector settings " + strings.Join(o.Extra, " ")
	}
	method := fmt.Sprintf("PostgreSQL %d, %s. Each shape is one monitored cluster collected by the built binary with every probe "+
		"every %s until %d runs of pg_stat_all_tables are stored, %.0f%% of each database's tables written (one UPDATE, one "+
		"SELECT) between runs; then each probe's partitions are read: pg_relation_size (heap), the TOAST table, "+
		"pg_indexes_size and pg_total_relation_size, over the rows stored. Per server-day = rows per run × runs per day at "+
		"the catalogue's default interval × bytes per row; change-tracked probes count only the snapshots stored after the "+
		"first. Per database-day divides by the application databases, as the peer's figure does. Probes with too few rows "+
		"to fill pages (†) have their bytes per row estimated from the rows' width.",
		ds.Major, settings, o.Interval, o.Runs, o.Touch*100)
	md := bench.StorageMarkdown(rs, cmd, method)
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
	for _, r := range rs {
		b, _ := r.Totals()
		fmt.Printf("storage %s: %.1f MB/server-day, %.1f MB/database-day (%.2f× the peer)\n", r.Shape, b/1e6,
			r.PerDatabaseDay()/1e6, r.PerDatabaseDay()/bench.PeerBytesPerDatabaseDay)
	}
	return nil
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func envInt(k string, def int) (int, error) {
	v := os.Getenv(k)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 2 {
		return 0, fmt.Errorf("%s: want an integer of at least 2, got %q", k, v)
	}
	return n, nil
}

func envDuration(k string, def time.Duration) (time.Duration, error) {
	v := os.Getenv(k)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < time.Second {
		return 0, fmt.Errorf("%s: want a duration of at least 1s, got %q", k, v)
	}
	return d, nil
}
