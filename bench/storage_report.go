package bench

import (
	"fmt"
	"os"
	"sort"
	"strings"
)

// PeerBytesPerDatabaseDay is the closest peer's datastore growth on a
// server of 20 databases × 500 tables (issue 21), and StorageGoal the
// share of it the collector aims at.
const (
	PeerBytesPerDatabaseDay = 85e6
	StorageGoal             = 0.25
)

// StorageSection is the head of the BENCH.md section bench/storage owns;
// it replaces that section and leaves the rest of the file as it is.
const StorageSection = "## Datastore cost"

// Totals sums a shape's probes per server-day.
func (r *StorageResult) Totals() (bytesPerDay, rowsPerDay float64) {
	for _, p := range r.Probes {
		bytesPerDay += p.BytesPerDay
		rowsPerDay += p.RowsPerDay
	}
	return
}

// PerDatabaseDay is the server-day divided by the application databases,
// as the peer's figure is stated.
func (r *StorageResult) PerDatabaseDay() float64 {
	b, _ := r.Totals()
	return b / float64(max(1, r.AppDBs))
}

// StorageMarkdown renders the section.
func StorageMarkdown(rs []*StorageResult, cmd, method string) string {
	var b strings.Builder
	p := func(f string, a ...any) { fmt.Fprintf(&b, f+"\n", a...) }
	p(StorageSection)
	p("")
	p("Written by `%s` (bench/storage). %s", cmd, method)
	p("")
	p("| shape | rows / server-day | MB / server-day | MB / database-day | peer (85 MB / database-day) |")
	p("|---|---:|---:|---:|---:|")
	for _, r := range rs {
		bytes, rows := r.Totals()
		p("| %s (%d databases × %d tables, + postgres) | %.0f | %.1f | %.1f | %.2f× |", r.Shape, r.AppDBs, r.Tables,
			rows, bytes/1e6, r.PerDatabaseDay()/1e6, r.PerDatabaseDay()/PeerBytesPerDatabaseDay)
	}
	p("")
	p("Goal: ≤ %.2f× the peer (%.1f MB / database-day) on the 20 × 500 shape, all tables covered.", StorageGoal,
		StorageGoal*PeerBytesPerDatabaseDay/1e6)
	for _, r := range rs {
		p("")
		p("### %s: per probe (default intervals)", r.Shape)
		p("")
		p("| probe | interval s | rows stored | rows / run | bytes / row | heap MB | TOAST MB | index MB | MB / server-day |")
		p("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
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
			p("| %s | %d | %d | %.1f | %.0f | %.2f | %.2f | %.2f | %.2f |", name, s.DefaultInterval, s.Rows, s.RowsPerRun,
				s.BytesPerRow, float64(s.Heap)/1e6, float64(s.Toast)/1e6, float64(s.Index)/1e6, s.BytesPerDay/1e6)
		}
		p("")
		p("† too few rows to fill pages: bytes per row estimated from pg_column_size of the rows, the line pointer, alignment and the index entry.")
		ix := r.Index
		p("")
		p("btree (connection_id, collected_at DESC), the product's index, against BRIN (collected_at) on a copy of %s: %d rows, %s, heap %.1f MB.",
			ix.Relation, ix.CopyRows, ix.WindowNote, float64(ix.CopyBytes)/1e6)
		p("")
		p("| | btree | BRIN |")
		p("|---|---:|---:|")
		p("| index size | %.2f MB | %.3f MB |", float64(ix.BtreeBytes)/1e6, float64(ix.BrinBytes)/1e6)
		for _, q := range ix.Queries {
			p("| %s (best of 5) | %.1f ms (%s) | %.1f ms (%s) |", q.Name, q.Btree.Seconds()*1000, q.BtreePlan, q.Brin.Seconds()*1000, q.BrinP)
		}
	}
	return b.String()
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
