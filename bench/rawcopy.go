package bench

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgcollector/pgcollector/internal/store"
)

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
