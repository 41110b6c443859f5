package bench

import (
	"fmt"
	"time"
)

// aloneRows adds the monitored figures that compare the fleet with the
// probes measured alone (ProbeCosts).
func (r *Report) aloneRows(add func(sec, name, value, note string)) {
	c := r.ProbeCosts
	if len(c.Probes) == 0 {
		return
	}
	perMin := c.PerServerMinute()
	add("monitored", "one server's probes, measured alone", fmt.Sprintf("%.1f ms CPU per minute", ms(perMin)),
		fmt.Sprintf("server CPU per run (%d runs on a hot session, %d other sessions on the cluster) × runs at default intervals; by probe below", c.Runs, c.Sessions))
	add("monitored", "… for the whole fleet at that cost", fmt.Sprintf("%.2f cores", perMin.Seconds()*float64(r.Servers*max(1, r.Factor))/60),
		fmt.Sprintf("%d servers, %s: what the clusters would need if every run cost what it costs alone", r.Servers, CompressedNote(r.Factor)))
	s := r.Steady
	win := s.End.Sub(s.Start).Seconds()
	if s.ProbeRuns > 0 && win > 0 && len(r.Scales) == 0 {
		fleet := time.Duration(r.monitoredCost() / (float64(s.ProbeRuns) / win) * float64(time.Second))
		add("monitored", "cluster CPU per probe run: fleet / alone", fmt.Sprintf("%.1f / %.1f ms (%.1f×)", ms(fleet), ms(c.PerRun()), float64(fleet)/float64(max(1, c.PerRun()))),
			"fleet: attributable cluster CPU over the window's probe runs; alone: mean over the default schedule's mix")
	}
}

// probeCostLines is the table of ProbeCosts, costliest per server first.
func (r *Report) probeCostLines() []string {
	c := r.ProbeCosts
	if len(c.Probes) == 0 {
		return nil
	}
	total := c.PerServerMinute()
	out := []string{fmt.Sprintf("%-30s %4s %9s %7s %11s %13s %6s", "probe", "dbs", "runs/h", "rows", "ms per run", "ms per min", "share")}
	for _, p := range c.Probes {
		perMin := p.PerMinute()
		out = append(out, fmt.Sprintf("%-30s %4d %9.1f %7d %11.2f %13.2f %5.1f%%", p.Probe, p.Databases, p.PerHour, p.Rows,
			ms(p.CPUPerRun), ms(perMin), 100*float64(perMin)/float64(max(1, total))))
	}
	out = append(out, fmt.Sprintf("%-30s %4s %9s %7s %11s %13.2f", "one server", "", "", "", "", ms(total)))
	for _, s := range c.Skipped {
		out = append(out, "not available: "+s)
	}
	return out
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// fleetMonitoredRows are the monitored figures of a fleet collected from
// real clusters (a report written before the simulator).
func (r *Report) fleetMonitoredRows(add func(sec, name, value, note string), cost, perMin float64) {
	s := r.Steady
	add("monitored", "cluster CPU attributable to the collector", fmt.Sprintf("%.3f cores", cost),
		fmt.Sprintf("window rate minus the load-only rate (%.3f cores) measured before start", r.IdleCPU))
	if r.Servers > 0 && perMin > 0 {
		add("monitored", "… per server", fmt.Sprintf("%.1f ms CPU per minute", cost*60*1000/float64(r.Servers)), "")
		exec := (s.After.RoleExecMs - s.Before.RoleExecMs) / perMin / float64(r.Servers)
		add("monitored", "execution time of its queries per server", fmt.Sprintf("%.1f ms per minute", exec),
			fmt.Sprintf("pg_stat_statements, role %s (%d calls in window)", MonitorRole, s.After.RoleCalls-s.Before.RoleCalls))
		add("monitored", "sessions held per server", fmt.Sprintf("%.2f", float64(s.After.CollectorSessions)/float64(r.Servers)),
			fmt.Sprintf("%d backends with application_name=pgcollector", s.After.CollectorSessions))
		add("monitored", "new sessions per server per minute", fmt.Sprintf("%.2f", float64(s.After.SessionsOpened-s.Before.SessionsOpened)/perMin/float64(r.Servers)),
			"pg_stat_database.sessions over all clusters")
	}
}
