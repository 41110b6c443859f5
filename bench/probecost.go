package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgcollector/pgcollector/internal/catalog"
	"github.com/pgcollector/pgcollector/internal/pgtest"
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

// PerServerMinute is the CPU one server spends on all probes per minute
// at default intervals, by the costs measured alone.
func (c ProbeCosts) PerServerMinute() time.Duration {
	var ns float64
	for _, p := range c.Probes {
		ns += float64(p.CPUPerRun) * p.PerHour / 60
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
	byProbe := map[string]*ProbeCost{}
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
			sql, reason, err := fetcherQuery(ctx, conn, p)
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
				if _, err := runStatement(ctx, conn, st.sql); err != nil {
					errs = append(errs, fmt.Errorf("%s in %s: %w", st.p.Name, db, err))
				}
			}
		}
		for _, st := range stmts {
			cpu, rows, err := timeRuns(ctx, conn, st.sql, runs)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s in %s: %w", st.p.Name, db, err))
				continue
			}
			pc := byProbe[st.p.Name]
			if pc == nil {
				pc = &ProbeCost{Probe: st.p.Name}
				byProbe[st.p.Name] = pc
			}
			// A running mean over the databases measured so far.
			pc.CPUPerRun = (pc.CPUPerRun*time.Duration(pc.Databases) + cpu) / time.Duration(pc.Databases+1)
			pc.Databases++
			pc.PerHour = 3600 / float64(st.p.IntervalSeconds) * float64(pc.Databases)
			pc.Rows = max(pc.Rows, rows)
		}
		_ = conn.Close(ctx)
	}
	for _, pc := range byProbe {
		res.Probes = append(res.Probes, *pc)
	}
	sort.Slice(res.Probes, func(i, j int) bool {
		a, b := res.Probes[i], res.Probes[j]
		return float64(a.CPUPerRun)*a.PerHour > float64(b.CPUPerRun)*b.PerHour
	})
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

// fetcherQuery is the statement the fetcher would send for p, or why p is
// unavailable: the probe's availability check, then the query made for its
// source's columns where it has one (probes.ColumnsSQL), else the query
// for the server's version, in the fetcher's COPY (and, for snapshot
// probes, transaction) wrapping. A round-trip probe is its SELECT 1.
func fetcherQuery(ctx context.Context, conn *pgx.Conn, p probes.Probe) (sql, reason string, err error) {
	if p.RoundTrip {
		return "SELECT 1", "", nil
	}
	if p.Check != "" {
		var r *string
		if err := conn.QueryRow(ctx, p.Check).Scan(&r); err != nil {
			return "", "", fmt.Errorf("availability check: %w", err)
		}
		if r != nil {
			return "", *r, nil
		}
	}
	version := serverVersionNum(conn)
	sql, ok := p.QueryFor(version)
	if !ok {
		return "", "no query for this server version", nil
	}
	if p.ColumnsOf != "" {
		var cols []string
		if err := conn.QueryRow(ctx, "SELECT ARRAY("+probes.ColumnsSQL+")", p.ColumnsOf).Scan(&cols); err != nil {
			return "", "", fmt.Errorf("read the columns of %s: %w", p.ColumnsOf, err)
		}
		if q, ok := p.QueryForColumns(cols); ok {
			sql = q
		}
	}
	return fetcher.ProbeStatement(p, catalog.ProbeConfig{}, version, probes.WithTopN(sql, 1000)), "", nil
}

// timeRuns runs sql times and returns the backend's CPU per run (from
// /proc/<pid>/schedstat, in nanoseconds) and the rows of the last run.
func timeRuns(ctx context.Context, conn *pgx.Conn, sql string, runs int) (time.Duration, int, error) {
	pid := int(conn.PgConn().PID())
	before, err := onCPU(pid)
	if err != nil {
		return 0, 0, err
	}
	var rows int
	for range runs {
		if rows, err = runStatement(ctx, conn, sql); err != nil {
			return 0, 0, err
		}
	}
	after, err := onCPU(pid)
	if err != nil {
		return 0, 0, err
	}
	return (after - before) / time.Duration(max(1, runs)), rows, nil
}

// runStatement runs a probe's statement and counts the rows it returned:
// a COPY into a counter, a round trip's SELECT 1 through Exec as the
// fetcher does.
func runStatement(ctx context.Context, conn *pgx.Conn, sql string) (int, error) {
	if !strings.HasPrefix(sql, "COPY") && !strings.HasPrefix(sql, "BEGIN") {
		_, err := conn.Exec(ctx, sql)
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

// onCPU is the time a process has run on a CPU, in nanoseconds: the first
// field of /proc/<pid>/schedstat, finer than the clock ticks of
// /proc/<pid>/stat.
func onCPU(pid int) (time.Duration, error) {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/schedstat")
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(raw))
	if len(f) == 0 {
		return 0, fmt.Errorf("/proc/%d/schedstat: empty", pid)
	}
	ns, err := strconv.ParseInt(f[0], 10, 64)
	return time.Duration(ns), err
}
