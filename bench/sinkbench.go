package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgcollector/pgcollector/bus"
	"github.com/pgcollector/pgcollector/internal/store"
	"github.com/pgcollector/pgcollector/probes"
	"github.com/pgcollector/pgcollector/sink"

	"github.com/pgcollector/pgcollector/internal/config"
)

// SinkResult compares the sink with a plain COPY of the same rows.
type SinkResult struct {
	Rows, Batches             int
	SinkRowsPerS, RawRowsPerS float64
	SinkCPUPerMillion         float64 // CPU of this process per million rows (sink, bus, and the embedded NATS)
	RawCPUPerMillion          float64
	Rounds                    int
	RawRowsPerCopy            int
}

// Ratio is sink_vs_raw_copy.
func (r SinkResult) Ratio() float64 {
	if r.RawRowsPerS == 0 {
		return 0
	}
	return r.SinkRowsPerS / r.RawRowsPerS
}

// rawRowsPerCopy is how many rows the plain path writes per CopyFrom: the
// size docs/design.md measured fastest.
const rawRowsPerCopy = 10_000

// SinkVsRaw measures, rounds times, the sink storing a JetStream backlog of
// batches (sink.New + Run against an embedded bus) and a plain pgx
// CopyFrom of the same rows into a second, identically migrated database,
// and keeps the best round of each.
func SinkVsRaw(ctx context.Context, f *Fleet, tmpls []Template, totalRows, rounds int, dir string) (SinkResult, error) {
	res := SinkResult{Rounds: rounds, RawRowsPerCopy: rawRowsPerCopy}
	sinkPool, err := migratedDatabase(ctx, f, "sinkbench")
	if err != nil {
		return res, err
	}
	defer sinkPool.Close()
	rawPool, err := migratedDatabase(ctx, f, "rawbench")
	if err != nil {
		return res, err
	}
	defer rawPool.Close()
	base := time.Now().UTC().Add(-time.Hour)
	for _, pool := range []*pgxpool.Pool{sinkPool, rawPool} {
		for _, t := range tmpls {
			if err := store.EnsurePartition(ctx, pool, t.Probe.Name, base); err != nil {
				return res, err
			}
		}
	}
	values, err := templateValues(ctx, f, tmpls)
	if err != nil {
		return res, err
	}
	for round := range rounds {
		batches, rows := makeBatches(tmpls, round, base.Add(time.Duration(round)*10*time.Minute), totalRows)
		res.Rows, res.Batches = rows, len(batches)
		took, cpu, err := runSink(ctx, sinkPool, batches, rows, fmt.Sprintf("%s/sinkbus%d", dir, round))
		if err != nil {
			return res, err
		}
		if r := float64(rows) / took.Seconds(); r > res.SinkRowsPerS {
			res.SinkRowsPerS, res.SinkCPUPerMillion = r, cpu.Seconds()/float64(rows)*1e6
		}
		took, cpu, err = runRaw(ctx, rawPool, tmpls, values, batches)
		if err != nil {
			return res, err
		}
		if r := float64(rows) / took.Seconds(); r > res.RawRowsPerS {
			res.RawRowsPerS, res.RawCPUPerMillion = r, cpu.Seconds()/float64(rows)*1e6
		}
	}
	return res, nil
}

// migratedDatabase creates a datastore database with the collector's
// schema and connections 1..1000, and returns a pool on it.
func migratedDatabase(ctx context.Context, f *Fleet, name string) (*pgxpool.Pool, error) {
	if err := f.CreateDatastoreDatabase(ctx, name); err != nil {
		return nil, err
	}
	pool, err := pgxpool.New(ctx, f.Datastore.DSN(name))
	if err != nil {
		return nil, err
	}
	if err := store.Migrate(ctx, pool, probes.All); err != nil {
		pool.Close()
		return nil, fmt.Errorf("migrate %s: %w", name, err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO public.connections (id, name, host)
SELECT g, 'bench-' || g, '127.0.0.1' FROM generate_series(1, 1000) g`); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

// runSink publishes the batches into a fresh embedded bus, then runs the
// sink until it has stored every row, timing only the sink.
func runSink(ctx context.Context, pool *pgxpool.Pool, batches []benchBatch, rows int, busDir string) (time.Duration, time.Duration, error) {
	cfg := config.Default[bus.Config]()
	cfg.DataDir = busDir
	cfg.BufferMaxBytes = 8 * bus.GiB
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	defer os.RemoveAll(busDir) // after the bus closed: it holds every batch
	b, err := bus.Open(ctx, cfg, quiet)
	if err != nil {
		return 0, 0, err
	}
	defer b.Close()
	for _, bb := range batches {
		if err := b.PublishBatch(ctx, bb.b); err != nil {
			return 0, 0, err
		}
	}
	// The comparison is of write paths storing the same rows: with
	// change-only storage the sink would store fewer rows than the plain
	// COPY from the second round on. BenchmarkSinkDedup (make bench's Go
	// benchmarks) measures what dedup costs and saves.
	scfg := config.Default[sink.Config]()
	scfg.Dedup = false
	s, err := sink.New(scfg, pool, b, quiet)
	if err != nil {
		return 0, 0, err
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	cpu0 := SelfCPU()
	start := time.Now()
	go func() { done <- s.Run(runCtx) }()
	for s.Stats().RowsStored.Load() < int64(rows) {
		select {
		case err := <-done:
			cancel()
			return 0, 0, fmt.Errorf("sink stopped early: %v", err)
		case <-time.After(2 * time.Millisecond):
		}
		if time.Since(start) > 10*time.Minute {
			cancel()
			<-done
			return 0, 0, fmt.Errorf("sink stored %d of %d rows in 10 minutes", s.Stats().RowsStored.Load(), rows)
		}
	}
	took, cpu := time.Since(start), SelfCPU()-cpu0
	cancel()
	if err := <-done; err != nil {
		return 0, 0, err
	}
	return took, cpu, nil
}
