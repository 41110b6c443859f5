package bench

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
)

// scaleMarkdown writes the fleet sizes collected from the simulator and
// the ceiling.
func (r *Report) scaleMarkdown(w io.Writer) {
	if len(r.Scales) == 0 {
		return
	}
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	p("")
	p("## Fleet sizes (simulated servers, %s)", CompressedNote(r.Factor))
	p("")
	p("Each size is its own `pgcollector run` (fresh datastore database) against the wire-protocol simulator")
	p("(bench/fleetsim, docs/benchmarks.md); the simulator's CPU is its own process's, never the collector's.")
	p("Sizes between the planned ones are the ceiling search (BENCH_CEILING_STEPS): each halfway between the largest")
	p("size that held and the smallest larger one that did not.")
	p("")
	steps := slices.SortedStableFunc(slices.Values(r.Scales), func(a, b ScaleStep) int { return cmp.Compare(a.Servers, b.Servers) })
	p("| servers | slots due / stale+skipped (sampled) | lag p50 / p99 | collector CPU per row | cores | peak RSS | rows/s | simulator CPU per row (× collector) | warm-up | settings |")
	p("|---|---|---|---|---|---|---|---|---|---|")
	for _, s := range steps {
		st := s.Steady
		if s.Err != "" && st.Rows == 0 {
			p("| %d | failed: %s | | | | | | | | %s |", s.Servers, mdCell(s.Err), s.Settings)
			continue
		}
		ratio := 0.0
		if st.CPUPerMillion > 0 {
			ratio = s.SimMicrosPerRow() / st.CPUPerMillion
		}
		warm := win2s(st.WarmupTook)
		if st.WarmupCapped {
			warm += " (NOT settled)"
		}
		p("| %d | %.0f / %d (%.0f%%) | %d / %d ms | %.1f µs | %.2f | %.0f MB | %.0f | %.2f µs (%.2f×) | %s | %s |",
			s.Servers, s.Due, st.Stale, served(s.Due, st.Stale), st.Lag.P50.Milliseconds(), st.Lag.P99.Milliseconds(),
			st.CPUPerMillion, s.Cores(), float64(max(st.PeakRSSStartup, st.PeakRSSWindow))/(1<<20), st.RowsPerSecond,
			s.SimMicrosPerRow(), ratio, warm, mdCell(s.Settings))
	}
	p("")
	if n, perCore, ok := Ceiling(r.Scales); ok {
		p("**Ceiling**: the largest fleet held with 0 stale or skipped slots is %d servers, at %.0f servers per collector core (%.2f cores).",
			n, perCore, float64(n)/perCore)
	} else {
		p("**Ceiling**: no fleet size was held with 0 stale or skipped slots in this run.")
	}
	for _, s := range steps {
		if s.Err != "" {
			p("")
			p("- %d servers ended early: %s", s.Servers, mdCell(s.Err))
		}
		a, b := s.SimAfter, s.SimBefore
		p("- %d servers, simulator over the window: %d rows served, %d requests (%d recorded from the real clusters, %d replayed), %d of its own errors, %d sessions open at the end, %.2f cores",
			s.Servers, a.RowsServed-b.RowsServed, a.Requests-b.Requests, a.Recorded-b.Recorded, a.Replayed-b.Replayed,
			a.Errors-b.Errors, a.Sessions, s.SimCPU.Seconds()/max(1e-9, s.Steady.End.Sub(s.Steady.Start).Seconds()))
		if from := s.Steady.RowsFromMetric; len(from) > 0 {
			p("  - rows of %s counted by the collector (pgcollector_rows_collected_total over the window): the datastore did not rebuild their series in %s (a scan from the keyframe before the window, on a busy datastore)",
				strings.Join(from, ", "), countTimeout)
		}
		if dc := s.Steady.DedupCache; dc.Hits+dc.Misses > 0 {
			p("  - sink dedup cache over the window: %.0f%% of %d chain writes found their state in memory, %.1f MB held at the end",
				100*float64(dc.Hits)/float64(dc.Hits+dc.Misses), dc.Hits+dc.Misses, float64(dc.Bytes)/(1<<20))
		}
	}
}
