package bench

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgcollector/pgcollector/probes"
)

// Monitored samples what the collector costs the monitored clusters: the
// CPU of every cluster process (sessions that ended included), the
// execution time pg_stat_statements recorded for the monitoring role,
// sessions opened, and the collector's sessions held now.
type Monitored struct {
	fleet *Fleet
	conns []*pgx.Conn
}

// NewMonitored opens one superuser session per cluster, kept for the whole
// run so that sampling opens no sessions of its own.
func NewMonitored(ctx context.Context, f *Fleet) (*Monitored, error) {
	m := &Monitored{fleet: f}
	for _, c := range f.Clusters {
		conn, err := pgx.Connect(ctx, c.DSN("postgres")+"&application_name=benchwatch")
		if err != nil {
			m.Close()
			return nil, err
		}
		m.conns = append(m.conns, conn)
	}
	return m, nil
}

// Close closes the sampling sessions.
func (m *Monitored) Close() {
	for _, c := range m.conns {
		_ = c.Close(context.Background())
	}
}

// MonitoredSample is one reading over all clusters.
type MonitoredSample struct {
	At                time.Time
	CPU               time.Duration // all cluster processes, cumulative
	RoleExecMs        float64       // pg_stat_statements total_exec_time of the monitoring role, cumulative
	RoleCalls         int64
	RoleEntries       int64 // pg_stat_statements entries of the monitoring role now
	RoleCopyEntries   int64 // of which are COPY (SELECT …) statements
	Entries           int64 // all pg_stat_statements entries now
	SessionsOpened    int64 // pg_stat_database.sessions, cumulative
	CollectorSessions int64 // backends with application_name pgcollector now
	// ReclaimCPU is the CPU of the kernel's memory reclaim threads
	// (kswapd, kdamond), machine-wide, cumulative.
	ReclaimCPU time.Duration
}

// Sample reads every cluster.
func (m *Monitored) Sample(ctx context.Context) (MonitoredSample, error) {
	s := MonitoredSample{At: time.Now(), ReclaimCPU: ReclaimCPU()}
	var errs []error
	for i, c := range m.fleet.Clusters {
		pid, err := PostmasterPID(c.DataDir)
		if err == nil {
			var cpu time.Duration
			if cpu, err = TreeCPU(pid); err == nil {
				s.CPU += cpu
			}
		}
		errs = append(errs, err)
		var execMs float64
		var calls, entries, copies, all, opened, sessions int64
		err = m.conns[i].QueryRow(ctx, `
SELECT coalesce(sum(total_exec_time) FILTER (WHERE userid = $1::regrole), 0),
       coalesce(sum(calls) FILTER (WHERE userid = $1::regrole), 0)::bigint,
       count(*) FILTER (WHERE userid = $1::regrole),
       count(*) FILTER (WHERE userid = $1::regrole AND query LIKE 'COPY (SELECT%'),
       count(*),
       (SELECT sum(sessions)::bigint FROM pg_stat_database),
       (SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgcollector')
FROM pg_stat_statements`, MonitorRole).Scan(&execMs, &calls, &entries, &copies, &all, &opened, &sessions)
		if err != nil {
			err = fmt.Errorf("sample cluster on port %d: %w", c.Port, err)
		}
		errs = append(errs, err)
		s.RoleExecMs += execMs
		s.RoleCalls += calls
		s.RoleEntries += entries
		s.RoleCopyEntries += copies
		s.Entries += all
		s.SessionsOpened += opened
		s.CollectorSessions += sessions
	}
	return s, errors.Join(errs...)
}

// Statement is one statement of the monitoring role in
// pg_stat_statements, summed over the clusters, with the probe it belongs
// to when its text contains a probe's query.
type Statement struct {
	Probe   string
	Calls   int64
	TotalMs float64
}

// TopStatements sums the monitoring role's statements by probe (texts of
// COPY statements contain the probe's query) since pg_stat_statements
// began counting, heaviest first.
func (m *Monitored) TopStatements(ctx context.Context) ([]Statement, error) {
	by := map[string]*Statement{}
	for _, conn := range m.conns {
		rows, err := conn.Query(ctx, `SELECT query, calls, total_exec_time FROM pg_stat_statements
WHERE userid = $1::regrole`, MonitorRole)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var q string
			var st Statement
			if err := rows.Scan(&q, &st.Calls, &st.TotalMs); err != nil {
				rows.Close()
				return nil, err
			}
			name := probeOf(q)
			agg := by[name]
			if agg == nil {
				agg = &Statement{Probe: name}
				by[name] = agg
			}
			agg.Calls += st.Calls
			agg.TotalMs += st.TotalMs
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	out := make([]Statement, 0, len(by))
	for _, st := range by {
		out = append(out, *st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].TotalMs > out[j].TotalMs })
	return out, nil
}

// probeOf names the probe whose query (or availability check) a statement
// text contains, or returns the text's first words.
func probeOf(q string) string {
	for _, p := range probes.All {
		for _, v := range p.Queries {
			if head := firstChars(probes.WithTopN(v.SQL, 1000), 160); head != "" && strings.Contains(q, head) {
				return p.Name
			}
		}
		if p.ColumnsOf != "" && strings.HasPrefix(q, "COPY") && strings.Contains(q, "FROM "+p.ColumnsOf) {
			return p.Name // the query made for the source's columns
		}
		if p.Check != "" && strings.Contains(q, firstChars(p.Check, 120)) {
			return p.Name + " (availability check)"
		}
	}
	return firstChars(strings.Join(strings.Fields(q), " "), 60)
}

func firstChars(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
