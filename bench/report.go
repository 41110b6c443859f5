package bench

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is everything one `make bench` run measured.
type Report struct {
	Date     time.Time
	Command  string
	Short    bool
	Machine  Machine
	Servers  int
	Clusters int
	Content  Content
	Factor   int // time compression: intervals divided by this
	// CollectorSettings says which settings of the collector differ
	// from the defaults.
	CollectorSettings string
	Took              time.Duration
	LoadEnd           string // /proc/loadavg when the run ended
	OutDir            string // profiles, logs and report.json of the run

	Sink     SinkResult
	Steady   Steady
	Drain    Drain
	DrainErr string // why the drain could not be measured
	Baseline BaselineResult
	IdleCPU  float64 // monitored clusters' CPU seconds per second before the collector started
	// ProbeCosts is every probe's cost to a monitored server, measured
	// alone on one fleet cluster before the collector started.
	ProbeCosts ProbeCosts

	// Scales are the fleet sizes collected from the simulator; Steady
	// is the first of them.
	Scales            []ScaleStep
	Versions          string  // majors of the real clusters, "14, 15, …"
	CPUProfileLargest Profile // the collector at the largest fleet
	// Storage is the datastore cost per server-day (bench/storage).
	Storage *StorageReport

	GoBench    []string
	CPUProfile Profile
	HeapProf   Profile
	Notes      []string
}

// Line is the one-line summary `make bench` ends with.
func (r *Report) Line() string {
	return fmt.Sprintf("bench: servers=%d rows_per_s=%.0f cpu_s_per_1m_rows=%.2f rss_mb=%.0f sink_vs_raw_copy=%.2f drain_vs_steady=%.2f e2e_p99_ms=%d stale_jobs=%d",
		r.Servers, r.Steady.RowsPerSecond, r.Steady.CPUPerMillion, r.rssMB(), r.Sink.Ratio(), r.drainRatio(),
		r.Steady.Lag.P99.Milliseconds(), r.Steady.Stale)
}

// rssMB is the collector's peak RSS from start to the end of the steady
// window: start-up burst included, drain excluded (reported apart).
func (r *Report) rssMB() float64 {
	return float64(max(r.Steady.PeakRSSStartup, r.Steady.PeakRSSWindow)) / (1 << 20)
}

func (r *Report) drainRatio() float64 {
	if r.Steady.RowsPerSecond == 0 {
		return 0
	}
	return r.Drain.RowsPerSecond / r.Steady.RowsPerSecond
}

// monitoredCost is the CPU the collector cost the monitored clusters, in
// CPU seconds per second: the window's cluster CPU rate minus the rate
// measured before the collector started (load only).
func (r *Report) monitoredCost() float64 {
	s := r.Steady
	d := s.End.Sub(s.Start).Seconds()
	if d <= 0 {
		return 0
	}
	return (s.After.CPU-s.Before.CPU).Seconds()/d - r.IdleCPU
}

// row is one figure of the table: name, value, and a remark.
type row struct{ section, name, value, note string }

func (r *Report) rows() []row {
	s, d, b, k := r.Steady, r.Drain, r.Baseline, r.Sink
	win := s.End.Sub(s.Start)
	perMin := win.Minutes()
	var rs []row
	add := func(sec, name, value, note string) { rs = append(rs, row{sec, name, value, note}) }
	mb := func(n int64) string { return fmt.Sprintf("%.0f MB", float64(n)/(1<<20)) }

	add("sink", "sink (sink.New+Run, JetStream backlog)", fmt.Sprintf("%.0f rows/s", k.SinkRowsPerS),
		fmt.Sprintf("%d rows in %d batches of real probe output, best of %d", k.Rows, k.Batches, k.Rounds))
	add("sink", "plain pgx CopyFrom, same rows", fmt.Sprintf("%.0f rows/s", k.RawRowsPerS),
		fmt.Sprintf("%d rows per COPY, same weekly-partitioned tables", k.RawRowsPerCopy))
	add("sink", "sink_vs_raw_copy", fmt.Sprintf("%.2f", k.Ratio()), "goal ≥ 0.8")
	add("sink", "client CPU per 1M rows: sink / plain", fmt.Sprintf("%.2f s / %.2f s", k.SinkCPUPerMillion, k.RawCPUPerMillion),
		"bench process: sink+bus+embedded NATS vs pgx binary encoding")

	add("fleet", "servers", fmt.Sprintf("%d on %d clusters", r.Servers, r.Clusters),
		fmt.Sprintf("%d app databases × %d tables (2 indexes each) + postgres; %s", r.Content.AppDatabases, r.Content.Tables, CompressedNote(r.Factor)))
	warm := fmt.Sprintf("stale or skipped slots in warm-up: %d", s.StaleWarmup)
	if s.WarmupCapped {
		warm += "; NOT SETTLED: the job backlog was still there when the window began, so the window measures start-up too"
	}
	add("fleet", "warm-up (first-slot burst)", win2s(s.WarmupTook), warm)
	add("fleet", "window", win2s(win), fmt.Sprintf("%s → %s", s.Start.Format("15:04:05"), s.End.Format("15:04:05")))
	add("fleet", "stored rows/s", fmt.Sprintf("%.0f", s.RowsPerSecond), fmt.Sprintf("%d rows collected in the window", s.Rows))
	add("fleet", "collector CPU per 1M stored rows", fmt.Sprintf("%.2f s", s.CPUPerMillion),
		fmt.Sprintf("%.1f µs/row; %.2f cores over the window", s.CPUPerMillion, s.CPU.Seconds()/win.Seconds()))
	add("fleet", "peak RSS (start → window end)", mb(max(s.PeakRSSStartup, s.PeakRSSWindow)),
		fmt.Sprintf("start-up %s, window %s, at end %s; goal ≤ 200 MB", mb(s.PeakRSSStartup), mb(s.PeakRSSWindow), mb(s.RSSEnd)))
	add("fleet", "ingest lag p50 / p99 / max", fmt.Sprintf("%d / %d / %d ms", s.Lag.P50.Milliseconds(), s.Lag.P99.Milliseconds(), s.Lag.Max.Milliseconds()),
		fmt.Sprintf("%d batch parts; collected_at → datastore commit timestamp; goal p99 ≤ 2 s", s.Lag.Batches))
	add("fleet", "… until the sink's transaction began, p50 / p99", fmt.Sprintf("%d / %d ms", s.Lag.BeforeP50.Milliseconds(), s.Lag.BeforeP99.Milliseconds()),
		"session wait, probe query, bus, sink accumulation (ingest_ledger.ingested_at = the transaction's now())")
	add("fleet", "… the sink's transaction, p50 / p99", fmt.Sprintf("%d / %d ms", s.Lag.WriteP50.Milliseconds(), s.Lag.WriteP99.Milliseconds()), "")
	due := SlotsDue(r.Servers, r.Factor, win)
	add("fleet", "stale or skipped slots in window", fmt.Sprintf("%d", s.Stale),
		fmt.Sprintf("from %s; of %.0f slots due in the window, %.0f%% had their sample; goal 0", s.StaleSource, due, served(due, s.Stale)))
	add("fleet", "warnings / errors logged in window", fmt.Sprintf("%d / %d", s.Logs.Warn, s.Logs.Error), strings.Join(s.Logs.Sample, " | "))
	if s.ProbeRuns > 0 {
		add("fleet", "probe runs / mean query time", fmt.Sprintf("%.0f/s / %d ms", float64(s.ProbeRuns)/win.Seconds(), s.ProbeMean.Milliseconds()),
			"pgcollector_probe_duration_seconds over the window")
	}
	add("fleet", "max backlog: jobs / batches", fmt.Sprintf("%d / %d", s.MaxJobsBacklog, s.MaxSinkBacklog), "sampled every 2 s")
	if dc := s.DedupCache; dc.Hits+dc.Misses > 0 {
		add("fleet", "dedup cache: hits / chains written", fmt.Sprintf("%.0f%% of %d", 100*float64(dc.Hits)/float64(dc.Hits+dc.Misses), dc.Hits+dc.Misses),
			fmt.Sprintf("pgcollector_sink_dedup_cache_total; %.1f MB held at the end (PGC_SINK_DEDUP_CACHE_BYTES); a miss reads the chain from public.dedup_state", float64(dc.Bytes)/(1<<20)))
	}
	add("fleet", "buffer growth", fmt.Sprintf("%.1f MB/s", s.BufferBytesPerS/(1<<20)), "PGC_BATCHES stored bytes (acknowledged batches are kept for replay)")

	cost := r.monitoredCost()
	if len(r.Scales) > 0 {
		// The fleet is simulated: the real clusters only serve the
		// simulator's recordings, so their CPU in the window says nothing
		// about a monitored server. The cost on one real server is the
		// "measured alone" figure below.
		add("monitored", "real clusters' CPU in the window beyond the load", fmt.Sprintf("%.3f cores", cost),
			fmt.Sprintf("the simulator's recordings only (load-only rate %.3f cores measured before start); not a monitored-side cost", r.IdleCPU))
	} else {
		r.fleetMonitoredRows(add, cost, perMin)
	}
	r.aloneRows(add)
	if s.After.ReclaimCPU > 0 {
		add("monitored", "kernel memory reclaim (kswapd, kdamond)", fmt.Sprintf("%.2f cores", (s.After.ReclaimCPU-s.Before.ReclaimCPU).Seconds()/win.Seconds()),
			"machine-wide over the window: part of what holding the simulated servers' sessions costs this machine")
	}
	add("monitored", "machine memory available, lowest in window", mb(s.MinMemAvailable), "MemAvailable, machine-wide")
	add("monitored", "pg_stat_statements entries of the role", fmt.Sprintf("%d of %d", s.After.RoleEntries, s.After.Entries),
		fmt.Sprintf("%d of them COPY (SELECT …) statements", s.After.RoleCopyEntries))

	if r.DrainErr != "" {
		add("drain", "backlog drain", "failed", r.DrainErr)
	} else {
		outage := fmt.Sprintf("%d batches, %.0f MB buffered", d.BacklogBatches, float64(d.BacklogBytes)/(1<<20))
		if d.StopNote != "" {
			outage += "; the datastore was killed: " + d.StopNote
		}
		add("drain", "outage", win2s(d.Outage), outage)
		add("drain", "datastore back → first commit", win2s(d.WaitAfterRestart), "the sink's retry backoff")
		add("drain", "drain rows/s", fmt.Sprintf("%.0f", d.RowsPerSecond),
			fmt.Sprintf("%d rows committed %s → %s", d.Rows, d.FirstCommit.Format("15:04:05.0"), d.Done.Format("15:04:05.0")))
		add("drain", "drain_vs_steady", fmt.Sprintf("%.2f", r.drainRatio()), "goal ≥ 5")
		add("drain", "peak RSS during outage and drain", mb(d.PeakRSS), fmt.Sprintf("stale or skipped slots: %d", d.Stale))
	}

	add("baseline", "plain loop CPU per 1M stored rows", fmt.Sprintf("%.2f s", b.CPUPerMillion()),
		fmt.Sprintf("%d rows, %d probe runs, %s wall, %.2f s CPU", b.Rows, b.Runs, win2s(b.Wall), b.CPU.Seconds()))
	if b.CPUPerMillion() > 0 {
		add("baseline", "collector CPU / plain loop CPU", fmt.Sprintf("%.2f", s.CPUPerMillion/b.CPUPerMillion()), "lower is better")
	}
	for _, p := range sortedKeys(b.Failures) {
		add("baseline", "plain loop failed: "+p, "", truncate(b.Failures[p], 120))
	}
	return rs
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func win2s(d time.Duration) string { return d.Round(100 * time.Millisecond).String() }

// Table prints the figures for the terminal; Line comes last.
func (r *Report) Table(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	section := ""
	for _, x := range r.rows() {
		if x.section != section {
			section = x.section
			fmt.Fprintf(tw, "\n[%s]\t\t\n", section)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", x.name, x.value, x.note)
	}
	_ = tw.Flush()
	fmt.Fprintln(w, "\n[rows per probe in the window]")
	if len(r.Steady.RowsFromMetric) > 0 {
		fmt.Fprintf(w, "  counted by the collector (pgcollector_rows_collected_total): the datastore did not rebuild their series in %s: %s\n",
			countTimeout, strings.Join(r.Steady.RowsFromMetric, ", "))
	}
	for _, p := range sortedKeys(r.Steady.RowsByProbe) {
		if n := r.Steady.RowsByProbe[p]; n > 0 {
			fmt.Fprintf(w, "  %-28s %9d\n", p, n)
		}
	}
	printLines(w, "datastore cost per server-day at default intervals", r.Storage.Lines())
	printLines(w, "go test -bench", r.GoBench)
	printLines(w, "what each probe costs a monitored server, measured alone (server CPU)", r.probeCostLines())
	printLines(w, "monitored-side execution time by probe (pg_stat_statements of the role since start)", r.statementLines())
	printLines(w, "where the fetcher's probe runs were (goroutine samples in the window)", r.Steady.Waits.Lines())
	printLines(w, "CPU profile of the running collector (go tool pprof -top)", profileLines(r.CPUProfile))
	printLines(w, "heap in use at the window's end (go tool pprof -top -sample_index=inuse_space)", profileLines(r.HeapProf))
	printLines(w, "notes", r.Notes)
}

func profileLines(p Profile) []string {
	lines := append([]string{}, p.Top...)
	if p.Path != "" {
		lines = append(lines, "saved to "+p.Path)
	}
	if p.Err != "" {
		lines = append(lines, "profile failed: "+p.Err)
	}
	return lines
}

func printLines(w io.Writer, title string, lines []string) {
	if len(lines) == 0 {
		return
	}
	fmt.Fprintf(w, "\n[%s]\n", title)
	for _, l := range lines {
		fmt.Fprintln(w, "  "+l)
	}
}

// statementLines is the monitoring role's execution time by probe.
func (r *Report) statementLines() []string {
	var total float64
	for _, st := range r.Steady.Statements {
		total += st.TotalMs
	}
	if total == 0 {
		return nil
	}
	out := []string{fmt.Sprintf("%-52s %8s %10s %9s %6s", "probe", "calls", "total s", "mean ms", "share")}
	for i, st := range r.Steady.Statements {
		if i == 15 {
			break
		}
		out = append(out, fmt.Sprintf("%-52s %8d %10.1f %9.2f %5.1f%%", truncate(st.Probe, 52), st.Calls, st.TotalMs/1000,
			st.TotalMs/float64(max(1, st.Calls)), 100*st.TotalMs/total))
	}
	return out
}

// served is the percentage of due slots that were neither skipped nor
// dropped as stale.
func served(due float64, lost int64) float64 {
	if due <= 0 {
		return 0
	}
	return max(0, 100*(1-float64(lost)/due))
}
