package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/pgcollector/pgcollector/internal/pgtest"
	"github.com/pgcollector/pgcollector/sink"
)

// StoragePlan sizes the datastore-cost phase: the shapes, and the options
// every shape is measured with.
type StoragePlan struct {
	Shapes  []StorageShape
	Options StorageOptions
}

// StorageShapes are the shapes BENCH_STORAGE_SHAPES can name: the bench
// fleet's server, the 20 × 500 server, and small ones for
// BENCH_SHORT.
var StorageShapes = map[string]StorageShape{
	"fleet":       {Name: "fleet", Content: Content{AppDatabases: 2, Tables: 300, Functions: 20}},
	"big":         {Name: "big", Content: Content{AppDatabases: 20, Tables: 500, Functions: 20}},
	"fleet-short": {Name: "fleet-short", Content: Content{AppDatabases: 2, Tables: 150, Functions: 10}},
	"big-short":   {Name: "big-short", Content: Content{AppDatabases: 20, Tables: 50, Functions: 5}},
}

// FullStoragePlan is `make bench`'s: both shapes, 13 runs (one run in
// full, then twelve, an hour's worth at the 300 s default), 10 s apart.
func FullStoragePlan() StoragePlan {
	return StoragePlan{Shapes: []StorageShape{StorageShapes["fleet"], StorageShapes["big"]},
		Options: StorageOptions{Interval: 10 * time.Second, Runs: 13, Touch: 0.05, CopyRuns: 24}}
}

// ShortStoragePlan is BENCH_SHORT's: small shapes, few runs.
func ShortStoragePlan() StoragePlan {
	return StoragePlan{Shapes: []StorageShape{StorageShapes["fleet-short"], StorageShapes["big-short"]},
		Options: StorageOptions{Interval: 5 * time.Second, Runs: 5, Touch: 0.05, CopyRuns: 12}}
}

// Overrides applies BENCH_STORAGE_SHAPES, BENCH_STORAGE_RUNS,
// BENCH_STORAGE_INTERVAL, BENCH_STORAGE_TOUCH, BENCH_STORAGE_COPY_RUNS and
// BENCH_STORAGE_SETTINGS (variants separated by ";", each a
// space-separated list of KEY=VALUE collector settings).
func (p *StoragePlan) Overrides() error {
	if v := os.Getenv("BENCH_STORAGE_SHAPES"); v != "" {
		p.Shapes = nil
		for _, n := range strings.Split(v, ",") {
			s, ok := StorageShapes[strings.TrimSpace(n)]
			if !ok {
				return fmt.Errorf("BENCH_STORAGE_SHAPES: unknown shape %q (fleet, big, fleet-short, big-short)", n)
			}
			p.Shapes = append(p.Shapes, s)
		}
	}
	o := &p.Options
	for k, dst := range map[string]*int{"BENCH_STORAGE_RUNS": &o.Runs, "BENCH_STORAGE_COPY_RUNS": &o.CopyRuns} {
		if v := os.Getenv(k); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 2 {
				return fmt.Errorf("%s: want an integer of at least 2, got %q", k, v)
			}
			*dst = n
		}
	}
	if v := os.Getenv("BENCH_STORAGE_INTERVAL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second || d%time.Second != 0 {
			return fmt.Errorf("BENCH_STORAGE_INTERVAL: want whole seconds, at least 1s, got %q", v)
		}
		o.Interval = d
	}
	if v := os.Getenv("BENCH_STORAGE_TOUCH"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 || f > 1 {
			return fmt.Errorf("BENCH_STORAGE_TOUCH: want a fraction in (0, 1], got %q", v)
		}
		o.Touch = f
	}
	if v := os.Getenv("BENCH_STORAGE_SETTINGS"); v != "" {
		o.Variants = nil
		for _, part := range strings.Split(v, ";") {
			kv := strings.Fields(part)
			for _, s := range kv {
				if !strings.HasPrefix(s, "PGC_") || !strings.Contains(s, "=") {
					return fmt.Errorf("BENCH_STORAGE_SETTINGS: want PGC_NAME=value settings, got %q", s)
				}
			}
			o.Variants = append(o.Variants, kv)
		}
	}
	return nil
}

// KnownSettings lists the PGC_ settings the binary has, from `pgcollector
// config`.
func KnownSettings(ctx context.Context, bin string) (map[string]bool, error) {
	out, err := exec.CommandContext(ctx, bin, "config").Output()
	if err != nil {
		return nil, fmt.Errorf("%s config: %w", bin, err)
	}
	known := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		if name, _, ok := strings.Cut(line, "="); ok && strings.HasPrefix(name, "PGC_") {
			known[name] = true
		}
	}
	return known, nil
}

// DefaultVariants compares storing every row with change-only storage
// when the binary has PGC_SINK_DEDUP, else measures the defaults alone.
func DefaultVariants(known map[string]bool) [][]string {
	if !known["PGC_SINK_DEDUP"] {
		return nil
	}
	return [][]string{{"PGC_SINK_DEDUP=false"}, {"PGC_SINK_DEDUP=true"}}
}

// scaleFullEvery gives a variant that stores changes only (PGC_SINK_DEDUP
// not false) the full-sample period that keeps the product default's
// ratio to the 300 s probes at the compressed interval: 1 h is 12 runs at
// 300 s, so 12 runs of the compressed interval. A variant that sets
// PGC_SINK_FULL_EVERY keeps its own.
func scaleFullEvery(v []string, known map[string]bool, interval time.Duration) []string {
	if !known["PGC_SINK_FULL_EVERY"] {
		return v
	}
	for _, s := range v {
		if strings.HasPrefix(s, "PGC_SINK_FULL_EVERY=") || s == "PGC_SINK_DEDUP=false" {
			return v
		}
	}
	return append(append([]string(nil), v...), fmt.Sprintf("PGC_SINK_FULL_EVERY=%s", fullEveryAt(interval)))
}

// RunStorage measures every shape of the plan with the built binary, the
// datastore databases on ds, and returns the phase's report; a shape that
// fails ends the phase with what was measured so far.
func RunStorage(ctx context.Context, ds *pgtest.Cluster, bin, dir string, p StoragePlan, say func(string, ...any)) *StorageReport {
	rep := &StorageReport{}
	known, err := KnownSettings(ctx, bin)
	if err != nil {
		rep.Err = err.Error()
		return rep
	}
	o := p.Options
	o.Bin, o.Dir = bin, dir
	if o.Variants == nil {
		o.Variants = DefaultVariants(known)
	}
	for i, v := range o.Variants {
		o.Variants[i] = scaleFullEvery(v, known, o.Interval)
	}
	var shapes []string
	for _, s := range p.Shapes {
		shapes = append(shapes, fmt.Sprintf("%s (%d × %d)", s.Name, s.Content.AppDatabases, s.Content.Tables))
	}
	rep.Method = storageMethod(ds.Major, o, shapes)
	for i, s := range p.Shapes {
		o.CompareIndexes = i == 0
		rs, err := MeasureStorage(ctx, ds, s, o, say)
		rep.Results = append(rep.Results, rs...)
		if err != nil {
			rep.Err = fmt.Sprintf("%s: %v", s.Name, err)
			break
		}
	}
	return rep
}

func storageMethod(major int, o StorageOptions, shapes []string) string {
	variants := "one collector with the default settings"
	if len(o.Variants) > 0 {
		var vs []string
		for _, v := range o.Variants {
			vs = append(vs, "`"+strings.Join(append([]string{}, v...), " ")+"`")
		}
		variants = fmt.Sprintf("%d collectors at the same time, one per settings variant (%s), each into its own datastore database",
			len(o.Variants), strings.Join(vs, ", "))
	}
	return fmt.Sprintf("Shapes %s, PostgreSQL %d. Each shape is one monitored cluster collected by the built `pgcollector run`: %s, "+
		"every probe every %s until %d runs of pg_stat_all_tables are stored and no slot of a database probe lacks a database. Write pattern: once per interval, %.0f%% of each "+
		"application database's tables, picked at random, get one UPDATE and one index SELECT; the other tables are idle. "+
		"Then each probe's partitions are read: pg_relation_size (heap), the TOAST table, pg_indexes_size and "+
		"pg_total_relation_size, over the rows stored. Rows per run leave the first run out (it stores every object, "+
		"whatever change-only storage leaves out later) and count runs from the ingest ledger (a run that stored no row "+
		"counts too). Per server-day = rows per run × runs per day at the catalogue's default interval × bytes per row. "+
		"Per database-day divides by the application databases, as the peer's figure does. Probes with too few rows to "+
		"fill pages (†) have their bytes per row estimated from the rows' width. "+
		"BENCH_STORAGE_SHAPES, _RUNS, _INTERVAL, _TOUCH, _COPY_RUNS and _SETTINGS (variants separated by `;`) resize it; "+
		"`go run ./bench/storage` runs this phase alone.",
		strings.Join(shapes, ", "), major, variants, o.Interval, o.Runs, o.Touch*100)
}

// StorageDatastoreSettings are the postgresql.conf settings of the
// datastore cluster when the phase runs alone.
var StorageDatastoreSettings = map[string]string{"max_connections": "100", "shared_buffers": "256MB", "max_wal_size": "4GB"}

// fullEveryAt is the hour of the 300 s probes at the compressed interval,
// 12 runs, less one interval. The measured window is runs 2 to 13, and
// the 13th run falls 12 intervals after the first, give or take how late
// each began: at exactly 12 intervals, whether it became a keyframe hung on
// that lateness, so the window held one keyframe or none (0.31x or 0.15x of
// the peer for the big shape). At 11 intervals the 12th or the 13th run is
// the keyframe, whatever the lateness below an interval, and the next is
// beyond the window: it always holds exactly one, as an hour of production
// does (one full run per 12). The sink's floor (sink.MinFullEvery) applies.
func fullEveryAt(interval time.Duration) time.Duration {
	d := time.Duration(float64(time.Hour)*interval.Seconds()/300) - interval
	return max(d, sink.MinFullEvery)
}
