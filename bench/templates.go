package bench

import (
	"bytes"
	"context"
	"strconv"
	"time"

	"github.com/pgcollector/pgcollector/bus"
	"github.com/pgcollector/pgcollector/probes"
)

// Template is one real probe result, captured from a fleet cluster, that
// the sink benchmark replicates into many batches.
type Template struct {
	Probe probes.Probe
	DB    string // "" for server-scoped probes
	Data  []byte // COPY text as the fetcher publishes it
	Rows  int
}

// templateProbes are the probes whose results dominate a fleet's rows.
var templateProbes = []struct{ probe, db string }{
	{"pg_stat_all_tables", "app1"},
	{"pg_stat_all_indexes", "app1"},
	{"pg_stat_statements", "postgres"},
	{"pg_stat_activity", "postgres"},
	{"pg_stat_database", "app1"},
	{"pg_settings", "postgres"},
}

// CaptureTemplates runs the template probes once on a fleet cluster.
func CaptureTemplates(ctx context.Context, f *Fleet) ([]Template, error) {
	c := f.Clusters[0]
	var out []Template
	for _, tp := range templateProbes {
		p, err := probes.ByName(tp.probe)
		if err != nil {
			return nil, err
		}
		conn, err := ConnectMonitored(ctx, c.DSNFor(MonitorRole, MonitorPassword, tp.db))
		if err != nil {
			return nil, err
		}
		data, err := CopyOut(ctx, conn, p, 1, time.Now())
		_ = conn.Close(ctx)
		if err != nil {
			return nil, err
		}
		t := Template{Probe: p, Data: data, Rows: bytes.Count(data, []byte{'\n'})}
		if p.Scope == probes.ScopeDatabase {
			t.DB = tp.db
		}
		out = append(out, t)
	}
	return out, nil
}

// benchBatch is batch i of a round: template i mod len(templates), for
// connection 1 + (i / len(templates)) mod 1000, collected at base plus i
// milliseconds, with its COPY text rewritten to match.
type benchBatch struct {
	tmpl int
	conn int64
	at   time.Time
	b    bus.Batch
}

// makeBatches replicates the templates until rows reach at least total.
func makeBatches(tmpls []Template, round int, base time.Time, total int) ([]benchBatch, int) {
	var out []benchBatch
	rows := 0
	for i := 0; rows < total; i++ {
		t := tmpls[i%len(tmpls)]
		conn := int64(1 + (i/len(tmpls))%1000)
		at := base.Add(time.Duration(i) * time.Millisecond).UTC()
		data := rewritePrefix(t.Data, conn, at)
		out = append(out, benchBatch{tmpl: i % len(tmpls), conn: conn, at: at, b: bus.Batch{
			ID:           bus.BatchID(conn, t.Probe.Name, int64(round)*1_000_000+int64(i), t.DB),
			Kind:         bus.KindRows,
			ConnectionID: conn,
			Probe:        t.Probe.Name,
			Database:     t.DB,
			CollectedAt:  at,
			Rows:         t.Rows,
			Columns:      StoredColumnNames(t.Probe),
			Data:         data,
		}})
		rows += t.Rows
	}
	return out, rows
}

// rewritePrefix replaces the connection_id and collected_at fields that
// start every line of COPY text.
func rewritePrefix(data []byte, conn int64, at time.Time) []byte {
	prefix := strconv.AppendInt(nil, conn, 10)
	prefix = append(prefix, '\t')
	prefix = at.AppendFormat(prefix, time.RFC3339Nano)
	out := make([]byte, 0, len(data)+len(data)/8)
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i+1], data[i+1:]
		} else {
			data = nil
		}
		first := bytes.IndexByte(line, '\t')
		second := bytes.IndexByte(line[first+1:], '\t') + first + 1
		out = append(append(out, prefix...), line[second:]...)
	}
	return out
}
