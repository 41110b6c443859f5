package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgcollector/pgcollector/internal/catalog"
	"github.com/pgcollector/pgcollector/internal/pgtest"
	"github.com/pgcollector/pgcollector/internal/procinfo"
	"github.com/pgcollector/pgcollector/probes"
	"github.com/pgcollector/pgcollector/stages/fetcher"
)

// ProbeCost is what one probe costs a monitored server when measured
// alone: the server CPU of one run of the query the fetcher sends, on a
// session that has just run it (hot), and how often a server runs it at
// the catalogue's default interval.
type ProbeCost struct {
	Probe     string
	Databases int     // databases it runs on per server (1 for server-scoped and cluster-wide ones)
	Rows      int     // rows of one run, in the database with the most
	PerHour   float64 // runs per server and hour at the default interval, all its databases
	CPUPerRun time.Duration
}

// ProbeCosts is every available probe's cost, measured on one fleet
// cluster before the collector starts, with as many other sessions open as
// the fleet's collector will hold there (pg_stat_activity and the views
// over backend status cost more with more sessions).
type ProbeCosts struct {
	Sessions int // other sessions on the cluster while measuring
	Runs     int // measured runs per probe and database, after two warm-up runs
	Probes   []ProbeCost
	Skipped  []string // probes not available on the cluster, with the reason
}

// PerMinute is the CPU a server spends on the probe per minute at its
// default interval.
func (p ProbeCost) PerMinute() time.Duration { return time.Duration(p.perMinute()) }

func (p ProbeCost) perMinute() float64 { return float64(p.CPUPerRun) * p.PerHour / 60 }

// PerServerMinute is the CPU one server spends on all probes per minute
// at default intervals, by the costs measured alone (summed before
// rounding to whole nanoseconds).
func (c ProbeCosts) PerServerMinute() time.Duration {
	var ns float64
	for _, p := range c.Probes {
		ns += p.perMinute()
	}
	return time.Duration(ns)
}

// PerRun is the mean CPU of a probe run, weighted by how often each probe
// runs: comparable with the fleet's cluster CPU per probe run.
func (c ProbeCosts) PerRun() time.Duration {
	var runs float64
	for _, p := range c.Probes {
		runs += p.PerHour
	}
	if runs == 0 {
		return 0
	}
	return time.Duration(float64(c.PerServerMinute()) * 60 / runs)
}

// MeasureProbeCosts measures every probe on cluster c, whose databases are
// dbs (the maintenance database first), as the plain loop's role (same
// rights as the monitoring role, kept apart in pg_stat_statements), with
// sessions other sessions held open meanwhile.
func MeasureProbeCosts(ctx context.Context, c *pgtest.Cluster, dbs []string, sessions, runs int) (ProbeCosts, error) {
	res := ProbeCosts{Sessions: sessions, Runs: runs}
	var others []*pgx.Conn
	defer func() {
		for _, o := range others {
			_ = o.Close(context.Background())
		}
	}()
	for i := range sessions {
		o, err := ConnectMonitored(ctx, c.DSN(dbs[i%len(dbs)]))
		if err != nil {
			return res, fmt.Errorf("open other session %d: %w", i+1, err)
		}
		others = append(others, o)
	}
	// Per probe: CPU summed over the databases it was measured in.
	type sum struct {
		p    probes.Probe
		cpu  time.Duration
		dbs  int
		rows int
	}
	byProbe := map[string]*sum{}
	var errs []error
	for i, db := range dbs {
		conn, err := ConnectMonitored(ctx, c.DSNFor(PlainRole, MonitorPassword, db))
		if err != nil {
			return res, fmt.Errorf("connect to %s: %w", db, err)
		}
		type stmt struct {
			p   probes.Probe
			sql string
		}
		var stmts []stmt
		for _, p := range probes.All {
			if !runsOn(p, i) {
				continue
			}
			sql, reason, err := fetcherStatement(ctx, conn, p)
			switch {
			case err != nil:
				errs = append(errs, fmt.Errorf("%s in %s: %w", p.Name, db, err))
			case reason != "" && i == 0:
				res.Skipped = append(res.Skipped, p.Name+": "+reason)
			case reason == "":
				stmts = append(stmts, stmt{p, sql})
			}
		}
		// Every statement runs twice before any is timed, so that the
		// session's caches hold what all of them need, as a collector's
		// session does after its first cycle.
		for range 2 {
			for _, st := range stmts {
				if _, err := runStatement(ctx, conn, st.p, st.sql); err != nil {
					errs = append(errs, fmt.Errorf("%s in %s: %w", st.p.Name, db, err))
				}
			}
		}
		for _, st := range stmts {
			cpu, rows, err := timeRuns(ctx, conn, st.p, st.sql, runs)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s in %s: %w", st.p.Name, db, err))
				continue
			}
			ps := byProbe[st.p.Name]
			if ps == nil {
				ps = &sum{p: st.p}
				byProbe[st.p.Name] = ps
			}
			ps.cpu += cpu
			ps.dbs++
			ps.rows = max(ps.rows, rows)
		}
		_ = conn.Close(ctx)
	}
	for _, ps := range byProbe {
		res.Probes = append(res.Probes, ProbeCost{
			Probe:     ps.p.Name,
			Databases: ps.dbs,
			Rows:      ps.rows,
			PerHour:   3600 / float64(ps.p.IntervalSeconds) * float64(ps.dbs),
			CPUPerRun: ps.cpu / time.Duration(ps.dbs),
		})
	}
	sort.Slice(res.Probes, func(i, j int) bool { return res.Probes[i].PerMinute() > res.Probes[j].PerMinute() })
	return res, errors.Join(errs...)
}

// runsOn reports whether the fetcher runs p in the i-th database of a
// server: server-scoped and cluster-wide probes in the first (the
// maintenance database, where they are available here), the others in
// every one.
func runsOn(p probes.Probe, i int) bool {
	if p.Scope == probes.ScopeServer || p.ClusterWide {
		return i == 0
	}
	return true
}

// fetcherStatement is the statement the fetcher sends for p, or why p is
// unavailable: the fetcher's own availability check (fetcher.CheckSource),
// then the query made for the source's columns where the probe has one,
// else the query for the server's version, in the fetcher's COPY (and,
// for snapshot probes, transaction) wrapping. A round-trip probe has no
// statement of its own (see runStatement).
func fetcherStatement(ctx context.Context, conn *pgx.Conn, p probes.Probe) (sql, reason string, err error) {
	if p.RoundTrip {
		return "", "", nil
	}
	version := serverVersionNum(conn)
	reason, cols, err := fetcher.CheckSource(ctx, conn, p, version)
	if err != nil || reason != "" {
		return "", reason, err
	}
	sql, _ = p.QueryFor(version) // CheckSource said there is one
	if q, ok := p.QueryForColumns(cols); ok && len(cols) > 0 {
		sql = q
	}
	return fetcher.ProbeStatement(p, catalog.ProbeConfig{}, version, probes.WithTopN(sql, 1000)), "", nil
}

// timeRuns runs p's statement sql times and returns the backend's CPU per
// run (procinfo.OnCPU) and the rows of the last run.
func timeRuns(ctx context.Context, conn *pgx.Conn, p probes.Probe, sql string, runs int) (time.Duration, int, error) {
	pid := int(conn.PgConn().PID())
	before, err := procinfo.OnCPU(pid)
	if err != nil {
		return 0, 0, err
	}
	var rows int
	for range runs {
		if rows, err = runStatement(ctx, conn, p, sql); err != nil {
			return 0, 0, err
		}
	}
	after, err := procinfo.OnCPU(pid)
	if err != nil {
		return 0, 0, err
	}
	return (after - before) / time.Duration(max(1, runs)), rows, nil
}

// runStatement runs p's statement and counts the rows it returned: a COPY
// into a counter, or for a round-trip probe the fetcher's SELECT 1.
func runStatement(ctx context.Context, conn *pgx.Conn, p probes.Probe, sql string) (int, error) {
	if p.RoundTrip {
		_, err := conn.Exec(ctx, "SELECT 1")
		return 1, err
	}
	var lines lineCounter
	_, err := conn.PgConn().CopyTo(ctx, &lines, sql)
	return int(lines), err
}

// lineCounter counts the rows of COPY text it is written, and keeps none.
type lineCounter int

func (n *lineCounter) Write(p []byte) (int, error) {
	*n += lineCounter(bytes.Count(p, []byte{'\n'}))
	return len(p), nil
}
