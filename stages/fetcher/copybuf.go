package fetcher

import (
	"bytes"
	"strconv"
	"time"

	"github.com/pgcollector/pgcollector/internal/bufpool"
)

// copyTimeLayout writes collected_at exactly as PostgreSQL's COPY text
// output does with DateStyle ISO and TimeZone UTC (the session settings of
// every probe session): "2006-01-02 15:04:05.123456+00", trailing zeros of
// the fraction dropped.
const copyTimeLayout = "2006-01-02 15:04:05.999999-07"

// RowPrefixer collects COPY text and writes connection_id and collected_at
// in front of every row. The server used to select them as literals, but
// pg_stat_statements keys a COPY statement by its text (PostgreSQL 15 and
// 17 checked), so literals that change every run added one entry per run
// to the monitored server and evicted its application's statements. With
// the prefix written here the statement text is the same on every run.
// Each row costs one IndexByte and one short copy; nothing is decoded.
//
// The buffer comes from bufpool; Release gives it back once the rows are
// published.
type RowPrefixer struct {
	buf    []byte
	prefix []byte
	midRow bool // the last Write ended inside a row
}

func NewRowPrefixer(conn int64, at time.Time, sizeHint int) *RowPrefixer {
	w := &RowPrefixer{buf: bufpool.Get(sizeHint)}
	w.prefix = strconv.AppendInt(w.prefix, conn, 10)
	w.prefix = append(w.prefix, '\t')
	w.prefix = at.UTC().AppendFormat(w.prefix, copyTimeLayout)
	w.prefix = append(w.prefix, '\t')
	return w
}

// Write takes COPY data in whatever pieces it comes (the server sends one
// row per CopyData message, but nothing here relies on that).
func (w *RowPrefixer) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if !w.midRow {
			w.buf = append(bufpool.Grow(w.buf, len(w.prefix)), w.prefix...)
			w.midRow = true
		}
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.buf = append(bufpool.Grow(w.buf, len(p)), p...)
			break
		}
		w.buf = append(bufpool.Grow(w.buf, i+1), p[:i+1]...)
		p = p[i+1:]
		w.midRow = false
	}
	return n, nil
}

// Bytes returns the prefixed rows, valid until Release.
func (w *RowPrefixer) Bytes() []byte { return w.buf }

// Release gives the buffer back to bufpool. Call it only when nothing
// holds Bytes any more.
func (w *RowPrefixer) Release() {
	bufpool.Put(w.buf)
	w.buf = nil
}
