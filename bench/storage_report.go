package bench

import (
	"fmt"
	"os"
	"sort"
	"strings"
)

// PeerBytesPerDatabaseDay is the closest peer's datastore growth on a
// server of 20 databases × 500 tables (issue 21: ~1.17 MB/min ≈ 1.7 GB
// a day ≈ 85 MB per database-day), and StorageGoal the share of it the
// collector aims at.
const (
	PeerBytesPerDatabaseDay = 85e6
	StorageGoal             = 0.25
)

// StorageSection is the head of the BENCH.md section of the datastore
// cost; bench/storage run alone replaces only that section.
const StorageSection = "## Datastore cost"

// StorageReport is the datastore-cost phase of a run.
type StorageReport struct {
	Method  string
	Results []*StorageResult
	Err     string // why the phase failed, when it did
}

// Totals sums a shape's probes per server-day.
func (r *StorageResult) Totals() (bytesPerDay, rowsPerDay float64) {
	for _, p := range r.Probes {
		bytesPerDay += p.BytesPerDay
		rowsPerDay += p.RowsPerDay
	}
	return
}

// ChangeOnlyEstimate sums the probes' ChangeOnlyEstimate with a full run
// every hour (PGC_SINK_FULL_EVERY's default): a forecast, from the rows
// collected, of what change-only storage stores.
func (r *StorageResult) ChangeOnlyEstimate() float64 {
	var b float64
	for _, p := range r.Probes {
		b += p.ChangeOnlyEstimate(3600)
	}
	return b
}

// PerDatabaseDay is the server-day divided by the application databases,
// as the peer's figure is stated.
func (r *StorageResult) PerDatabaseDay() float64 {
	b, _ := r.Totals()
	return b / float64(max(1, r.AppDBs))
}

// Lines are the terminal's summary of the phase, one per shape and variant.
func (s *StorageReport) Lines() []string {
	if s == nil {
		return nil
	}
	var out []string
	for _, r := range s.Results {
		b, rows := r.Totals()
		est := r.ChangeOnlyEstimate() / float64(max(1, r.AppDBs))
		out = append(out, fmt.Sprintf("%s (%d × %d), %s: %.0f rows, %.1f MB per server-day, %.1f MB per database-day, %.2f× the peer; "+
			"unchanged rows left out (hourly full run): %.1f MB per database-day, %.2f× (forecast)",
			r.Shape, r.AppDBs, r.Tables, r.SettingsNote(), rows, b/1e6, r.PerDatabaseDay()/1e6, r.PerDatabaseDay()/PeerBytesPerDatabaseDay,
			est/1e6, est/PeerBytesPerDatabaseDay))
	}
	if s.Err != "" {
		out = append(out, "failed: "+s.Err)
	}
	return out
}

// goal is the target on the 20 × 500 shape, for each variant.
func (s *StorageReport) goals() []goal {
	if s == nil {
		return nil
	}
	var gs []goal
	for _, r := range s.Results {
		if r.AppDBs != 20 || r.Tables != 500 {
			continue
		}
		x := r.PerDatabaseDay() / PeerBytesPerDatabaseDay
		gs = append(gs, goal{"datastore bytes per database-day vs the peer (20 × 500, all tables), " + r.SettingsNote(),
			fmt.Sprintf("≤ %.2f× (%.1f MB)", StorageGoal, StorageGoal*PeerBytesPerDatabaseDay/1e6),
			fmt.Sprintf("%.2f× (%.1f MB)", x, r.PerDatabaseDay()/1e6), x <= StorageGoal, false})
	}
	return gs
}

// Markdown renders the section.
func (s *StorageReport) Markdown() string {
	var b strings.Builder
	p := func(f string, a ...any) { fmt.Fprintf(&b, f+"\n", a...) }
	p(StorageSection)
	p("")
	p("%s", s.Method)
	p("")
	if s.Err != "" {
		p("**The phase failed:** %s", mdCell(s.Err))
		p("")
	}
	p("| shape | collector settings | rows / server-day | MB / server-day | MB / database-day | vs peer (85 MB / database-day) | forecast if unchanged rows were not stored (full run hourly): MB / database-day, vs peer |")
	p("|---|---|---:|---:|---:|---:|---:|")
	for _, r := range s.Results {
		bytes, rows := r.Totals()
		est := r.ChangeOnlyEstimate() / float64(max(1, r.AppDBs))
		p("| %s: %d databases × %d tables (+ postgres), %.0f%% of tables written per interval | %s | %.0f | %.1f | %.1f | %.2f× | %.1f, %.2f× |",
			r.Shape, r.AppDBs, r.Tables, r.Touch*100, mdCell(r.SettingsNote()), rows, bytes/1e6, r.PerDatabaseDay()/1e6,
			r.PerDatabaseDay()/PeerBytesPerDatabaseDay, est/1e6, est/PeerBytesPerDatabaseDay)
	}
	p("")
	p("The forecast column takes each probe's share of rows equal (but for collected_at) to the same database's row in the run before, " +
		"measured on the rows stored, and assumes those are not stored except in one run an hour; it is a forecast for settings that store every row, " +
		"and means nothing for a variant that already stores changes only.")
	p("")
	p("Goal: ≤ %.2f× the peer (%.1f MB / database-day) on the 20 × 500 shape, all tables covered (no cap).", StorageGoal,
		StorageGoal*PeerBytesPerDatabaseDay/1e6)
	for _, r := range s.Results {
		probeTable(p, r)
		layoutTable(p, r)
		indexTable(p, r)
	}
	return b.String()
}

func probeTable(p func(string, ...any), r *StorageResult) {
	p("")
	p("### %s, %s: per probe (default intervals)", r.Shape, mdCell(r.SettingsNote()))
	p("")
	p("| probe | interval s | runs | rows stored | rows / run | bytes / row | heap MB | TOAST MB | index MB | MB / server-day | unchanged from the run before |")
	p("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	ps := append([]ProbeStorage(nil), r.Probes...)
	sort.Slice(ps, func(i, j int) bool { return ps[i].BytesPerDay > ps[j].BytesPerDay })
	for _, s := range ps {
		if s.Rows == 0 {
			continue
		}
		name := s.Probe
		if s.ChangeTracked {
			name += " (on change)"
		}
		if s.Estimated {
			name += " †"
		}
		unchanged := "–"
		if s.Unchanged >= 0 {
			unchanged = fmt.Sprintf("%.1f%%", 100*s.Unchanged)
		}
		p("| %s | %d | %d | %d | %.1f | %.0f | %.2f | %.2f | %.2f | %.2f | %s |", name, s.DefaultInterval, s.Runs, s.Rows, s.RowsPerRun,
			s.BytesPerRow, float64(s.Heap)/1e6, float64(s.Toast)/1e6, float64(s.Index)/1e6, s.BytesPerDay/1e6, unchanged)
	}
	p("")
	p("† too few rows to fill pages: bytes per row estimated from pg_column_size of the rows, the line pointer, alignment and the index entry.")
}

func layoutTable(p func(string, ...any), r *StorageResult) {
	if len(r.Layout) == 0 {
		return
	}
	p("")
	p("Column order, %s: each probe's collected rows copied twice, once with the columns in the catalogue's order "+
		"(partitions before this change) and once in alignment order (8-byte columns, then 4, 2, 1, then variable-width; "+
		"partitions now). Heap only; the index is the same in both. Text bytes: what the row's text columns take.", r.Shape)
	p("")
	p("| probe | rows | catalogue order, bytes / row | alignment order, bytes / row | saved | text bytes / row |")
	p("|---|---:|---:|---:|---:|---:|")
	for _, l := range r.Layout {
		d, a := float64(l.Declared)/float64(l.Rows), float64(l.Aligned)/float64(l.Rows)
		p("| %s | %d | %.1f | %.1f | %.1f%% | %.1f |", l.Probe, l.Rows, d, a, 100*(d-a)/d, l.TextBytes)
	}
}

func indexTable(p func(string, ...any), r *StorageResult) {
	ix := r.Index
	if ix == nil {
		return
	}
	p("")
	p("Index, %s: btree (connection_id, collected_at DESC), the product's index, against BRIN (collected_at) on a copy of %s: "+
		"%s, %d rows, heap %.1f MB.", r.Shape, ix.Relation, ix.WindowNote, ix.CopyRows, float64(ix.CopyBytes)/1e6)
	p("")
	p("| | btree | BRIN |")
	p("|---|---:|---:|")
	p("| index size | %.2f MB (%.1f B / row) | %.3f MB (%.2f B / row) |", float64(ix.BtreeBytes)/1e6,
		float64(ix.BtreeBytes)/float64(max(1, ix.CopyRows)), float64(ix.BrinBytes)/1e6, float64(ix.BrinBytes)/float64(max(1, ix.CopyRows)))
	for _, q := range ix.Queries {
		p("| %s (best of 5) | %.1f ms (%s) | %.1f ms (%s) |", q.Name, q.Btree.Seconds()*1000, q.BtreePlan, q.Brin.Seconds()*1000, q.BrinP)
	}
}

// ReplaceSection writes section into the markdown file at path in place
// of the part that starts with its first line and runs to the next "## "
// heading, or appends it.
func ReplaceSection(path, section string) error {
	raw, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	doc := string(raw)
	head := strings.SplitN(section, "\n", 2)[0]
	if i := strings.Index(doc, head+"\n"); i >= 0 {
		rest := doc[i+len(head)+1:]
		end := ""
		if j := strings.Index(rest, "\n## "); j >= 0 {
			end = rest[j+1:]
		}
		doc = doc[:i] + section + "\n" + end
	} else {
		if doc != "" && !strings.HasSuffix(doc, "\n\n") {
			doc = strings.TrimRight(doc, "\n") + "\n\n"
		}
		doc += section
	}
	return os.WriteFile(path, []byte(doc), 0o644)
}
