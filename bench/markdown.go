package bench

import (
	"fmt"
	"io"
	"strings"
)

// goal is one of the targets and whether this run met it.
// windowed goals are read from the steady window, which says little when
// the start-up had not settled by then.
type goal struct {
	what, target, got string
	met, windowed     bool
}

// verdict is the "met" cell of a goal.
func (r *Report) verdict(g goal) string {
	switch {
	case g.windowed && r.Steady.WarmupCapped && g.met:
		return "not shown: the window began before start-up settled"
	case g.windowed && r.Steady.WarmupCapped:
		return "no (the window began before start-up settled)"
	case g.met:
		return "yes"
	}
	return "no"
}

func (r *Report) goals() []goal {
	s := r.Steady
	rss := r.rssMB()
	gs := []goal{
		{"sink_vs_raw_copy", "≥ 0.8", fmt.Sprintf("%.2f", r.Sink.Ratio()), r.Sink.Ratio() >= 0.8, false},
		{"stale or skipped slots in the steady window", "0", fmt.Sprint(s.Stale), s.Stale == 0, true},
		{"collector peak RSS", "≤ 200 MB", fmt.Sprintf("%.0f MB", rss), rss <= 200, false},
		{"ingest lag p99", "≤ 2 s", fmt.Sprintf("%d ms", s.Lag.P99.Milliseconds()), s.Lag.P99.Milliseconds() <= 2000, true},
		{"drain_vs_steady", "≥ 5", fmt.Sprintf("%.2f", r.drainRatio()), r.drainRatio() >= 5, true},
	}
	if b := r.Baseline.CPUPerMillion(); b > 0 {
		gs = append(gs, goal{"collector CPU per row vs the plain loop", "as low as possible (< 1)",
			fmt.Sprintf("%.2f× (%.2f s vs %.2f s per 1M rows)", s.CPUPerMillion/b, s.CPUPerMillion, b), s.CPUPerMillion < b, true})
	}
	gs = append(gs, goal{"CPU per stored row vs the peer's 156 µs", "≤ 15.6 µs (a tenth)",
		fmt.Sprintf("%.1f µs", s.CPUPerMillion), s.CPUPerMillion <= 15.6, true})
	gs = append(gs, r.Storage.goals()...)
	if r.Servers != 1000 || r.Factor != 1 {
		gs = append(gs, goal{"scale of this run", "1,000 servers at default intervals",
			fmt.Sprintf("%d servers, %s", r.Servers, CompressedNote(r.Factor)), false, false})
	}
	return gs
}

// Markdown writes BENCH.md.
func (r *Report) Markdown(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	p("# pgcollector benchmark")
	p("")
	p("Written by `make bench` (bench/fleet); every run overwrites it. Figures are from one run on a 2-core")
	p("machine shared with other agents' builds and tests while it ran: they are noisy. Compare ratios taken")
	p("in the same run, not absolute numbers across runs. How the bench and the simulator work: docs/benchmarks.md.")
	p("")
	p("- date: %s (took %s)", r.Date.UTC().Format("2006-01-02 15:04 MST"), win2s(r.Took))
	p("- command: `%s`", r.Command)
	p("- machine: %s; at the end %s", r.Machine, r.LoadEnd)
	p("- fleet: simulated servers (bench/fleetsim, one process, one port, the server chosen by the user name) answering from recordings of %d real clusters, one per major %s (%d application databases × %d tables, 2 indexes each, plus postgres; pg_stat_statements in every database; a small load loop; the clusters run at nice %d), all probes, %s",
		r.Clusters, r.majors(), r.Content.AppDatabases, r.Content.Tables, MonitoredNice, CompressedNote(r.Factor))
	if r.CollectorSettings != "" {
		p("- collector: `pgcollector run` with %s", r.CollectorSettings)
	}
	p("")
	p("```")
	p("%s", r.Line())
	p("```")
	p("")
	p("## Goals")
	p("")
	p("| goal | target | this run | met |")
	p("|---|---|---|---|")
	for _, g := range r.goals() {
		p("| %s | %s | %s | %s |", g.what, g.target, g.got, r.verdict(g))
	}
	r.scaleMarkdown(w)
	p("")
	p("## Figures (the first fleet size)")
	section := ""
	for _, x := range r.rows() {
		if x.section != section {
			section = x.section
			p("")
			p("### %s", section)
			p("")
			p("| figure | value | how / remark |")
			p("|---|---|---|")
		}
		p("| %s | %s | %s |", mdCell(x.name), mdCell(x.value), mdCell(x.note))
	}
	p("")
	p("### rows per probe in the window")
	p("")
	p("| probe | rows |")
	p("|---|---|")
	for _, name := range sortedKeys(r.Steady.RowsByProbe) {
		if n := r.Steady.RowsByProbe[name]; n > 0 {
			p("| %s | %d |", name, n)
		}
	}
	if r.Storage != nil {
		p("")
		p("%s", strings.TrimRight(r.Storage.Markdown(), "\n"))
	}
	block := func(title string, lines []string) {
		if len(lines) == 0 {
			return
		}
		p("")
		p("## %s", title)
		p("")
		p("```")
		for _, l := range lines {
			p("%s", l)
		}
		p("```")
	}
	block("Go benchmarks (go test -bench)", r.GoBench)
	block("What each probe costs a monitored server, measured alone (server CPU at default intervals)", r.probeCostLines())
	block("Monitored-side execution time by probe (pg_stat_statements of the monitoring role since start)", r.statementLines())
	block("Where the fetcher's probe runs were (goroutine samples in the window)", r.Steady.Waits.Lines())
	block("CPU profile of the running collector (steady window, first fleet size)", profileLines(r.CPUProfile))
	block("CPU profile of the running collector at the largest fleet", profileLines(r.CPUProfileLargest))
	block("Heap in use at the end of the window", profileLines(r.HeapProf))
	if len(r.Notes) > 0 {
		p("")
		p("## Notes of this run")
		p("")
		for _, n := range r.Notes {
			p("- %s", n)
		}
	}
	p("")
	p("%s", strings.TrimSpace(method))
}

func mdCell(s string) string { return strings.ReplaceAll(s, "|", "\\|") }

// method explains how each figure is taken; it is the same for every run.
const method = `
## How the figures are taken

- **Fleet.** N connection rows (sim-00001 …) point at one port of the fleet simulator (bench/fleetsim, its own
  process); the user name selects the simulated server, served from the real cluster of major 14–18 it maps
  to (round robin). The simulator forwards each request (the exact frontend messages up to Query or Sync) the
  first time it is seen, per cluster, database and startup parameters, records the reply and replays it; a
  second recording a minute later finds the integer fields that changed, which then advance at that rate.
  Row counts are those of the real clusters' content (named at the top). The real ` + "`pgcollector run`" + ` binary
  runs with the settings named per fleet size, built with a profiling overlay (` + "`go build -overlay`" + ` adds
  net/http/pprof on PGC_BENCH_PPROF; the product has no such endpoint). The system_stats probes find the
  extension absent, as on the real clusters. docs/benchmarks.md has the details.
- **Window.** Every (connection, probe) catches up its current slot within half an interval (at most 5 min) of
  the collector's start; the window begins after that (full run: at least 5.5 min) once the job and batch
  backlogs (read through PGC_NATS_LISTEN) are worked off.
- **simulator CPU per row**: utime+stime of the simulator's process over the window, per CopyData or DataRow
  message it sent; set against the collector's CPU per stored row.
- **ceiling**: the largest fleet size of the run with 0 stale or skipped slots in a settled window, divided by
  the collector's cores over that window.
- **rows_per_s**: rows collected with collected_at inside the window, divided by its length: the rows in
  metrics.*, and for the per-object probes stored change-only (PGC_SINK_DEDUP, on by default) the rows their
  metrics.<probe>_series function gives back, unchanged rows included. "Per stored row" figures below are per
  such row, so they compare with runs that stored every row.
- **cpu_s_per_1m_rows**: utime+stime of the collector process (/proc/<pid>/stat) over the window, per million
  of those rows. The plain loop is measured the same way in its own process.
- **rss_mb**: VmHWM of the collector from start to the end of the window (start-up burst included); the window
  alone and the drain are reported apart (VmHWM is reset through /proc/<pid>/clear_refs).
- **e2e_p99_ms**: per batch part, the datastore's commit timestamp (track_commit_timestamp = on) of the
  transaction that wrote its ingest_ledger row (the same transaction as its COPY), minus the collected_at the
  fetcher stamped before running the probe; p99 over the parts collected in the window.
- **stale_jobs**: slots not collected in time: the fetcher's pgcollector_jobs_stale_total plus the
  scheduler's pgcollector_jobs_skipped_total (slots left without a job while the pair's previous job still
  waited for a fetcher) when /metrics serves them, else the "stale job dropped" log lines; counted over the
  window only (the start-up burst is reported apart).
- **sink_vs_raw_copy**: real probe output (pg_stat_all_tables, pg_stat_all_indexes, pg_stat_statements,
  pg_stat_activity, pg_stat_database, pg_settings of a fleet cluster) replicated into batches for 1,000
  connections, published to an embedded JetStream, then stored by sink.New + Run (timed from start until
  every row is committed), against pgx CopyFrom of the same rows (decoded values, 10,000 rows per COPY) into
  an identically migrated database; best round of each.
- **drain_vs_steady**: the datastore is stopped (pgtest Cluster.Stop) while the fleet is collected, then
  restarted; rows committed from the first commit after the restart until the commit of the last batch
  collected before it, per second, divided by the steady rows/s (marker rows and tombstones left out, the
  rows left out as unchanged added from pgcollector_sink_rows_unchanged_total). Batches collected during the
  drain count too. The wait between restart and first commit (the sink's backoff) is reported apart.
- **probes measured alone**: before the collector starts, on the first fleet cluster with as many other
  sessions open as the collector will hold there, each probe's statement as the fetcher sends it (its COPY and
  transaction wrapping, the query made for the view's columns where it has one) runs twice, then N times on one
  session of the monitoring role; the backend's time on CPU (/proc/<pid>/schedstat) per run, times the runs a
  server makes at default intervals (database probes in each database, cluster-wide ones once), is the
  probe's cost per server. Set against the fleet's cluster CPU per probe run, it shows how much the co-located
  fleet's scale adds to each run.
- **plain loop**: the same fleet and probe mix (each probe on each server in proportion to its interval),
  pgx Query of the probe's SQL through a pool per cluster and database, rows.Values(), connection_id,
  collected_at and database_name prepended, pgx CopyFrom per probe run into a migrated datastore database.
`
