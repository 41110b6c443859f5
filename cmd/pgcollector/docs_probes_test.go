package main

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/pgcollector/pgcollector/probes"
)

// TestProbeTable fails when docs/probes.md's probe table is not what
// probes.All says, so that the documented scopes, defaults and version
// notes cannot drift from the code. PGC_UPDATE_DOCS=1 rewrites it:
//
//	PGC_UPDATE_DOCS=1 go test ./cmd/pgcollector -run 'TestProbeTable|TestSettingsTable'
func TestProbeTable(t *testing.T) {
	generatedSection(t, filepath.Join("docs", "probes.md"), "probes", probeTable())
}

// probeTable renders the catalogue as a Markdown table.
func probeTable() string {
	var b strings.Builder
	b.WriteString("| probe | what it stores | scope | interval / retention | PostgreSQL | notes |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	for _, p := range probes.All {
		scope := "server"
		if p.Scope == probes.ScopeDatabase {
			scope = "each database"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %d s / %d d | %d+ | %s |\n", p.Name, p.Description, scope,
			p.IntervalSeconds, p.RetentionDays, p.MinVersion()/10000, strings.Join(probeNotes(p), "; "))
	}
	return b.String()
}

var extensionCheck = regexp.MustCompile(`extension (\w+) not installed`)

// probeNotes derives a probe's notes from its definition: how it is
// collected, what it needs, and which columns depend on the server's
// version.
func probeNotes(p probes.Probe) []string {
	var notes []string
	if m := extensionCheck.FindStringSubmatch(p.Check); m != nil {
		note := "needs extension " + m[1]
		if strings.Contains(p.Check, "monitor_system_stats") {
			note += " and membership in monitor_system_stats"
		}
		notes = append(notes, note+" (unavailable where it is not installed)")
	}
	if strings.Contains(p.Check, "GRANT SELECT ON") {
		notes = append(notes, "needs the explicit grants of [the monitoring role](running.md#the-monitoring-role)")
	}
	if p.ClusterWide {
		notes = append(notes, "cluster-wide view: collected from one database per server")
	}
	if sql, _ := p.QueryFor(p.Queries[len(p.Queries)-1].MinVersion); strings.Contains(sql, "/*top_n*/") {
		notes = append(notes, "top `PGC_STATEMENTS_TOP_N` rows")
	}
	if p.Activity != "" {
		notes = append(notes, "capped by `PGC_PROBE_MAX_OBJECTS` when set (most active objects kept)")
	}
	if p.ChangeTracked {
		notes = append(notes, "change-tracked: stored only when it differs from the last snapshot")
	}
	if p.Snapshot {
		notes = append(notes, "one consistent statistics snapshot")
	}
	if p.RoundTrip {
		notes = append(notes, "timed by the collector; an unreachable server is stored as up = false")
	}
	return append(notes, versionNotes(p)...)
}

// versionNotes lists the columns that a newer server adds (NULL before)
// and those it dropped (NULL from then on), read from the queries'
// typed NULLs.
func versionNotes(p probes.Probe) []string {
	var notes []string
	for i := 1; i < len(p.Queries); i++ {
		prev, cur := nullColumns(p, p.Queries[i-1].SQL), nullColumns(p, p.Queries[i].SQL)
		major := p.Queries[i].MinVersion / 10000
		var added, dropped []string
		for _, c := range p.Columns {
			switch {
			case slices.Contains(prev, c.Name) && !slices.Contains(cur, c.Name):
				added = append(added, c.Name)
			case !slices.Contains(prev, c.Name) && slices.Contains(cur, c.Name):
				dropped = append(dropped, c.Name)
			}
		}
		if len(added) > 0 {
			notes = append(notes, fmt.Sprintf("%d+: %s", major, strings.Join(added, ", ")))
		}
		if len(dropped) > 0 {
			notes = append(notes, fmt.Sprintf("NULL from %d: %s", major, strings.Join(dropped, ", ")))
		}
	}
	return notes
}

// nullColumns returns the columns that sql selects as a typed NULL.
func nullColumns(p probes.Probe, sql string) []string {
	var out []string
	for _, c := range p.Columns {
		re := regexp.MustCompile(`(^|[\s,(])NULL::` + regexp.QuoteMeta(c.Type) + `\s+AS\s+` + c.Name + `\b`)
		if re.MatchString(sql) {
			out = append(out, c.Name)
		}
	}
	return out
}
