package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgcollector/pgcollector/bus"
	"github.com/pgcollector/pgcollector/internal/store"
	"github.com/pgcollector/pgcollector/probes"
	"github.com/pgcollector/pgcollector/sink"
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

// SinkResult compares the sink with a plain COPY of the same rows.
type SinkResult struct {
	Rows, Batches             int
	SinkRowsPerS, RawRowsPerS float64
	SinkCPUPerMillion         float64 // CPU of this process per million rows (sink, bus, and the embedded NATS)
	RawCPUPerMillion          float64
	Rounds                    int
	RawRowsPerCopy            int
}

// Ratio is sink_vs_raw_copy.
func (r SinkResult) Ratio() float64 {
	if r.RawRowsPerS == 0 {
		return 0
	}
	return r.SinkRowsPerS / r.RawRowsPerS
}

// rawRowsPerCopy is how many rows the plain path writes per CopyFrom: the
// size DESIGN.md measured fastest.
const rawRowsPerCopy = 10_000

// SinkVsRaw measures, rounds times, the sink storing a JetStream backlog of
// batches (sink.New + Run against an embedded bus) and a plain pgx
// CopyFrom of the same rows into a second, identically migrated database,
// and keeps the best round of each.
func SinkVsRaw(ctx context.Context, f *Fleet, tmpls []Template, totalRows, rounds int, dir string) (SinkResult, error) {
	res := SinkResult{Rounds: rounds, RawRowsPerCopy: rawRowsPerCopy}
	sinkPool, err := migratedDatabase(ctx, f, "sinkbench")
	if err != nil {
		return res, err
	}
	defer sinkPool.Close()
	rawPool, err := migratedDatabase(ctx, f, "rawbench")
	if err != nil {
		return res, err
	}
	defer rawPool.Close()
	base := time.Now().UTC().Add(-time.Hour)
	for _, pool := range []*pgxpool.Pool{sinkPool, rawPool} {
		for _, t := range tmpls {
			if err := store.EnsurePartition(ctx, pool, t.Probe.Name, base); err != nil {
				return res, err
			}
		}
	}
	values, err := templateValues(ctx, f, tmpls)
	if err != nil {
		return res, err
	}
	for round := range rounds {
		batches, rows := makeBatches(tmpls, round, base.Add(time.Duration(round)*10*time.Minute), totalRows)
		res.Rows, res.Batches = rows, len(batches)
		took, cpu, err := runSink(ctx, sinkPool, batches, rows, fmt.Sprintf("%s/sinkbus%d", dir, round))
		if err != nil {
			return res, err
		}
		if r := float64(rows) / took.Seconds(); r > res.SinkRowsPerS {
			res.SinkRowsPerS, res.SinkCPUPerMillion = r, cpu.Seconds()/float64(rows)*1e6
		}
		took, cpu, err = runRaw(ctx, rawPool, tmpls, values, batches)
		if err != nil {
			return res, err
		}
		if r := float64(rows) / took.Seconds(); r > res.RawRowsPerS {
			res.RawRowsPerS, res.RawCPUPerMillion = r, cpu.Seconds()/float64(rows)*1e6
		}
	}
	return res, nil
}

// migratedDatabase creates a datastore database with the collector's
// schema and connections 1..1000, and returns a pool on it.
func migratedDatabase(ctx context.Context, f *Fleet, name string) (*pgxpool.Pool, error) {
	if err := f.CreateDatastoreDatabase(ctx, name); err != nil {
		return nil, err
	}
	pool, err := pgxpool.New(ctx, f.Datastore.DSN(name))
	if err != nil {
		return nil, err
	}
	if err := store.Migrate(ctx, pool, probes.All); err != nil {
		pool.Close()
		return nil, fmt.Errorf("migrate %s: %w", name, err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO public.connections (id, name, host)
SELECT g, 'bench-' || g, '127.0.0.1' FROM generate_series(1, 1000) g`); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

// runSink publishes the batches into a fresh embedded bus, then runs the
// sink until it has stored every row, timing only the sink.
func runSink(ctx context.Context, pool *pgxpool.Pool, batches []benchBatch, rows int, busDir string) (time.Duration, time.Duration, error) {
	cfg := bus.DefaultConfig()
	cfg.DataDir = busDir
	cfg.BufferMaxBytes = 8 * bus.GiB
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	b, err := bus.Open(ctx, cfg, quiet)
	if err != nil {
		return 0, 0, err
	}
	defer b.Close()
	for _, bb := range batches {
		if err := b.PublishBatch(ctx, bb.b); err != nil {
			return 0, 0, err
		}
	}
	s, err := sink.New(sink.DefaultConfig(), pool, b, quiet)
	if err != nil {
		return 0, 0, err
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	cpu0 := SelfCPU()
	start := time.Now()
	go func() { done <- s.Run(runCtx) }()
	for s.Stats().RowsStored.Load() < int64(rows) {
		select {
		case err := <-done:
			cancel()
			return 0, 0, fmt.Errorf("sink stopped early: %v", err)
		case <-time.After(2 * time.Millisecond):
		}
		if time.Since(start) > 10*time.Minute {
			cancel()
			<-done
			return 0, 0, fmt.Errorf("sink stored %d of %d rows in 10 minutes", s.Stats().RowsStored.Load(), rows)
		}
	}
	took, cpu := time.Since(start), SelfCPU()-cpu0
	cancel()
	if err := <-done; err != nil {
		return 0, 0, err
	}
	return took, cpu, nil
}

// templateValues are the templates' rows as pgx decodes them: each
// template's COPY text is loaded into a scratch table of the probe's
// column types and read back, so the plain path writes exactly the rows
// the sink writes.
func templateValues(ctx context.Context, f *Fleet, tmpls []Template) ([][][]any, error) {
	conn, err := pgx.Connect(ctx, f.Datastore.DSN("postgres"))
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	RegisterLSN(conn.TypeMap())
	// A scratch table per template, filled from the COPY text the sink
	// gets, read back as values.
	out := make([][][]any, len(tmpls))
	for i, t := range tmpls {
		tmp := fmt.Sprintf("bench_tmpl_%d", i)
		cols := t.Probe.StoredColumns()
		defs := make([]string, len(cols))
		for j, c := range cols {
			defs[j] = pgx.Identifier{c.Name}.Sanitize() + " " + c.Type
		}
		if _, err := conn.Exec(ctx, "CREATE TEMP TABLE "+tmp+" ("+joinComma(defs)+")"); err != nil {
			return nil, err
		}
		if _, err := conn.PgConn().CopyFrom(ctx, bytes.NewReader(t.Data), "COPY "+tmp+" FROM STDIN"); err != nil {
			return nil, fmt.Errorf("load template %s: %w", t.Probe.Name, err)
		}
		rows, err := conn.Query(ctx, "SELECT * FROM "+tmp)
		if err != nil {
			return nil, err
		}
		vals, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([]any, error) { return r.Values() })
		if err != nil {
			return nil, fmt.Errorf("read template %s: %w", t.Probe.Name, err)
		}
		out[i] = vals
	}
	return out, nil
}

func joinComma(s []string) string {
	var b bytes.Buffer
	for i, v := range s {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(v)
	}
	return b.String()
}

// runRaw writes the rows of the batches with pgx CopyFrom, table by table,
// about rawRowsPerCopy rows per COPY, each COPY its own transaction.
func runRaw(ctx context.Context, pool *pgxpool.Pool, tmpls []Template, values [][][]any, batches []benchBatch) (time.Duration, time.Duration, error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return 0, 0, err
	}
	defer conn.Release()
	RegisterLSN(conn.Conn().TypeMap())
	byTmpl := make([][]benchBatch, len(tmpls))
	for _, bb := range batches {
		byTmpl[bb.tmpl] = append(byTmpl[bb.tmpl], bb)
	}
	cpu0 := SelfCPU()
	start := time.Now()
	for ti, list := range byTmpl {
		t := tmpls[ti]
		table := pgx.Identifier{store.Schema, t.Probe.Name}
		cols := StoredColumnNames(t.Probe)
		for len(list) > 0 {
			n, rows := 0, 0
			for n < len(list) && rows < rawRowsPerCopy {
				rows += len(values[ti])
				n++
			}
			src := &replicaSource{rows: values[ti], batches: list[:n]}
			if _, err := conn.Conn().CopyFrom(ctx, table, cols, src); err != nil {
				return 0, 0, fmt.Errorf("copy into %s: %w", table.Sanitize(), err)
			}
			list = list[n:]
		}
	}
	return time.Since(start), SelfCPU() - cpu0, nil
}

// replicaSource yields a template's rows once per batch, with the batch's
// connection_id and collected_at.
type replicaSource struct {
	rows    [][]any
	batches []benchBatch
	b, i    int // current batch, next row of the template
	cur     []any
}

func (s *replicaSource) Next() bool {
	if len(s.rows) == 0 {
		return false
	}
	if s.i == len(s.rows) {
		s.b, s.i = s.b+1, 0
	}
	if s.b >= len(s.batches) {
		return false
	}
	s.cur = append(s.cur[:0], s.rows[s.i]...)
	s.i++
	bb := s.batches[s.b]
	s.cur[0], s.cur[1] = int32(bb.conn), bb.at
	return true
}

func (s *replicaSource) Values() ([]any, error) { return s.cur, nil }
func (s *replicaSource) Err() error             { return nil }
