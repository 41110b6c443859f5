package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pgcollector/pgcollector/bus"
	"github.com/pgcollector/pgcollector/internal/obs"
)

// printStatus writes the human-readable report: one block per connection
// with a line per enabled probe, the backlog, then the problems.
func printStatus(w io.Writer, rep statusReport, now time.Time) {
	verdict := "healthy"
	if !rep.Healthy {
		verdict = fmt.Sprintf("UNHEALTHY (%d problem(s))", len(rep.Problems))
	}
	fmt.Fprintf(w, "pgcollector status at %s: %s\n", rep.GeneratedAt.Format(time.RFC3339), verdict)
	if len(rep.Connections) == 0 {
		fmt.Fprintln(w, "\nno connections: add one with pgcollector connection add")
	}
	for _, c := range rep.Connections {
		fmt.Fprintf(w, "\n%s (%s:%d, %s)\n", c.Name, c.Host, c.Port, connectionSummary(c))
		if !c.Monitored {
			continue
		}
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  PROBE\tSTATE\tLAST SUCCESS\tLAG/INTERVAL\tINTERVAL\tLAST ERROR")
		disabled := 0
		for _, p := range c.Probes {
			if !p.Enabled {
				disabled++
				continue
			}
			lag := "-"
			if p.LagIntervals != nil {
				lag = fmt.Sprintf("%.1f", *p.LagIntervals)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", p.Probe, probeState(p), statusAgo(p.LastSuccess, now), lag,
				time.Duration(p.IntervalSeconds)*time.Second, statusLastError(p, now))
		}
		_ = tw.Flush()
		if disabled > 0 {
			fmt.Fprintf(w, "  (%d disabled probe(s) not shown)\n", disabled)
		}
	}
	printBacklog(w, rep.Backlog)
	if len(rep.Problems) > 0 {
		fmt.Fprintln(w, "\nproblems:")
		for _, p := range rep.Problems {
			fmt.Fprintln(w, "  - "+p)
		}
	}
}

func connectionSummary(c obs.ConnectionStatus) string {
	parts := []string{}
	if !c.Monitored {
		parts = append(parts, "not monitored")
	}
	switch {
	case c.Up == nil:
		parts = append(parts, "no connectivity sample in 24h")
	case *c.Up:
		parts = append(parts, "up")
	default:
		parts = append(parts, "DOWN")
	}
	if c.Availability24h != nil {
		parts = append(parts, fmt.Sprintf("%.1f%% up over 24h", 100**c.Availability24h))
	}
	if c.ConnectionError != "" {
		parts = append(parts, "connection error: "+c.ConnectionError)
	}
	return strings.Join(parts, ", ")
}

// probeState adds the unavailability reason to the state.
func probeState(p obs.ProbeStatus) string {
	if p.State == obs.StateUnavailable && p.Reason != "" {
		return p.State + " (" + statusTruncate(p.Reason, 40) + ")"
	}
	return p.State
}

func statusLastError(p obs.ProbeStatus, now time.Time) string {
	if p.LastError == "" {
		return ""
	}
	return statusAgo(p.LastErrorAt, now) + ": " + statusTruncate(strings.ReplaceAll(p.LastError, "\n", " "), 80)
}

func printBacklog(w io.Writer, rep obs.BacklogReport) {
	fmt.Fprintf(w, "\nbuffer backlog (source: %s)\n", rep.Source)
	if rep.Reason != "" {
		fmt.Fprintln(w, "  "+rep.Reason)
	}
	if len(rep.Streams) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  STREAM\tCONSUMER\tUNACKED\tIN FLIGHT\tUNACKED BYTES\tSTORED\tLIMIT")
	for _, b := range rep.Streams {
		if b.Error != "" {
			fmt.Fprintf(tw, "  %s\t%s\tunknown: %s\n", b.Stream, b.Consumer, b.Error)
			continue
		}
		limit := "none"
		if b.MaxBytes > 0 {
			limit = bus.ByteSize(b.MaxBytes).String()
		}
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%d\t%s\t%s\t%s\n", b.Stream, b.Consumer, b.Unsettled(), b.AckPending,
			bus.ByteSize(b.PendingBytes), bus.ByteSize(b.StreamBytes), limit)
	}
	_ = tw.Flush()
}

func statusAgo(t *time.Time, now time.Time) string {
	if t == nil {
		return "never"
	}
	return now.Sub(*t).Round(time.Second).String() + " ago"
}

func statusTruncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}
