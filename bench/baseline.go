package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgcollector/pgcollector/internal/store"
	"github.com/pgcollector/pgcollector/probes"
)

// BaselineConfig describes the reference loop: the same fleet and job mix
// as the collector's, done the plain way — pgx Query of the probe's SQL,
// rows decoded into []any, connection_id, collected_at and database_name
// added, and pgx CopyFrom (binary, so every value is encoded again) into
// the datastore, one COPY per probe run.
type BaselineConfig struct {
	Targets   []Target
	Databases []string
	Servers   int
	Intervals map[string]int
	Datastore string // DSN of a migrated datastore database
	Duration  time.Duration
	Workers   int
}

// BaselineResult is what the loop did; CPU is its own process's, measured
// from the first job to the last (connections and checks excluded).
type BaselineResult struct {
	Rows, Runs int64
	CPU, Wall  time.Duration
	Failures   map[string]string // probe → first error
}

// CPUPerMillion is CPU seconds per million stored rows.
func (r BaselineResult) CPUPerMillion() float64 {
	if r.Rows == 0 {
		return 0
	}
	return r.CPU.Seconds() / float64(r.Rows) * 1e6
}

type baselineJob struct {
	server int
	probe  probes.Probe
	db     string
}

// baselineWindow is the stretch of schedule the job list covers: each probe
// runs on each server window/interval times (fractions by chance).
const baselineWindow = 600

// RunBaseline runs the loop for cfg.Duration or until its jobs run out.
func RunBaseline(ctx context.Context, cfg BaselineConfig) (BaselineResult, error) {
	res := BaselineResult{Failures: map[string]string{}}
	dsCfg, err := pgxpool.ParseConfig(cfg.Datastore)
	if err != nil {
		return res, err
	}
	dsCfg.MaxConns = int32(cfg.Workers)
	dsCfg.AfterConnect = func(_ context.Context, c *pgx.Conn) error { RegisterLSN(c.TypeMap()); return nil }
	ds, err := pgxpool.NewWithConfig(ctx, dsCfg)
	if err != nil {
		return res, err
	}
	defer ds.Close()
	pools := map[string]*source{}
	defer func() {
		for _, p := range pools {
			p.pool.Close()
		}
	}()
	avail := map[string]bool{} // cluster/db/probe
	for ci, t := range cfg.Targets {
		for _, db := range cfg.Databases {
			pc, err := pgxpool.ParseConfig(fmt.Sprintf("postgres://%s:%s@%s:%d/%s?sslmode=disable",
				PlainRole, MonitorPassword, t.Host, t.Port, db))
			if err != nil {
				return res, err
			}
			pc.MaxConns = int32(cfg.Workers)
			for k, v := range SessionParams {
				pc.ConnConfig.RuntimeParams[k] = v
			}
			pc.AfterConnect = func(_ context.Context, c *pgx.Conn) error { RegisterLSN(c.TypeMap()); return nil }
			p, err := pgxpool.NewWithConfig(ctx, pc)
			if err != nil {
				return res, err
			}
			src := &source{pool: p}
			pools[poolKey(ci, db)] = src
			if src.version, err = checkAvailability(ctx, p, ci, db, avail); err != nil {
				return res, err
			}
		}
	}
	jobs := baselineJobs(cfg, avail)
	var next, rows, runs atomic.Int64
	var mu sync.Mutex
	deadline := time.Now().Add(cfg.Duration)
	cpu0, start := SelfCPU(), time.Now()
	var wg sync.WaitGroup
	for range cfg.Workers {
		wg.Go(func() {
			for time.Now().Before(deadline) && ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= len(jobs) {
					return
				}
				j := jobs[i]
				n, err := runBaselineJob(ctx, pools[poolKey(j.server%len(cfg.Targets), j.db)], ds, j)
				if err != nil {
					mu.Lock()
					if _, seen := res.Failures[j.probe.Name]; !seen {
						res.Failures[j.probe.Name] = err.Error()
					}
					mu.Unlock()
					continue
				}
				rows.Add(n)
				runs.Add(1)
			}
		})
	}
	wg.Wait()
	res.CPU, res.Wall = SelfCPU()-cpu0, time.Since(start)
	res.Rows, res.Runs = rows.Load(), runs.Load()
	return res, nil
}

func poolKey(cluster int, db string) string { return fmt.Sprint(cluster, "/", db) }

// source is the baseline's pool on one database of one cluster.
type source struct {
	pool    *pgxpool.Pool
	version int
}

// checkAvailability runs each probe's version and source checks once per
// cluster and database, as the fetcher does before running it.
func checkAvailability(ctx context.Context, p *pgxpool.Pool, cluster int, db string, avail map[string]bool) (int, error) {
	conn, err := p.Acquire(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Release()
	version := serverVersionNum(conn.Conn())
	for _, pr := range probes.All {
		if _, ok := pr.QueryFor(version); !ok {
			continue
		}
		if pr.Check != "" {
			var reason *string
			if err := conn.QueryRow(ctx, pr.Check).Scan(&reason); err != nil || reason != nil {
				continue
			}
		}
		avail[fmt.Sprint(cluster, "/", db, "/", pr.Name)] = true
	}
	return version, nil
}

// baselineJobs lists the probe runs of baselineWindow seconds of the
// fleet's schedule, shuffled so that any prefix has the same mix.
func baselineJobs(cfg BaselineConfig, avail map[string]bool) []baselineJob {
	r := rand.New(rand.NewPCG(1, 2))
	var jobs []baselineJob
	for s := range cfg.Servers {
		ci := s % len(cfg.Targets)
		for _, p := range probes.All {
			interval := cfg.Intervals[p.Name]
			if interval <= 0 {
				continue
			}
			runs := float64(baselineWindow) / float64(interval)
			n := int(runs)
			if r.Float64() < runs-float64(n) {
				n++
			}
			dbs := cfg.Databases[:1]
			if p.Scope == probes.ScopeDatabase {
				dbs = cfg.Databases
			}
			for _, db := range dbs {
				if !avail[fmt.Sprint(ci, "/", db, "/", p.Name)] {
					continue
				}
				for range n {
					jobs = append(jobs, baselineJob{server: s, probe: p, db: db})
				}
				if p.ClusterWide {
					break
				}
			}
		}
	}
	r.Shuffle(len(jobs), func(i, j int) { jobs[i], jobs[j] = jobs[j], jobs[i] })
	return jobs
}

// runBaselineJob is one probe run of the plain loop.
func runBaselineJob(ctx context.Context, src *source, ds *pgxpool.Pool, j baselineJob) (int64, error) {
	p := src.pool
	at := time.Now().UTC()
	prefix := []any{int32(j.server + 1), at}
	if j.probe.Scope == probes.ScopeDatabase {
		prefix = append(prefix, j.db)
	}
	var out [][]any
	if j.probe.RoundTrip {
		start := time.Now()
		if _, err := p.Exec(ctx, "SELECT 1"); err != nil {
			return 0, err
		}
		out = append(out, append(prefix, true, float64(time.Since(start).Microseconds())/1000, nil))
	} else {
		sql, _ := j.probe.QueryFor(src.version)
		rows, err := p.Query(ctx, probes.WithTopN(sql, 1000))
		if err != nil {
			return 0, err
		}
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				rows.Close()
				return 0, err
			}
			row := make([]any, 0, len(prefix)+len(vals))
			out = append(out, append(append(row, prefix...), vals...))
		}
		if err := rows.Err(); err != nil {
			return 0, err
		}
	}
	if len(out) == 0 {
		return 0, nil
	}
	return ds.CopyFrom(ctx, pgx.Identifier{store.Schema, j.probe.Name}, StoredColumnNames(j.probe), pgx.CopyFromRows(out))
}
