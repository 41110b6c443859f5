package sink

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/cespare/xxhash/v2"
)

// rowScanner reads the object key and the value hash of COPY text rows
// as they came off the monitored server, without decoding them. A field
// of COPY text never holds a raw tab or newline (COPY escapes both), so
// splitting the bytes is exact. The hash covers the whole row except
// collected_at: two rows of one object hash equal when every column but
// the collection time is the same text, which with the fetcher's pinned
// session settings means the same value.
type rowScanner struct {
	at      int   // field index of collected_at
	keys    []int // field indexes of the key columns, in Key order
	last    int   // highest field index needed
	contig  bool  // keys are consecutive ascending fields: the key is a slice of the row
	scratch []byte
	starts  []int
	ends    []int
	digest  *xxhash.Digest
}

// newRowScanner finds collected_at and the key columns in a batch's
// column list.
func newRowScanner(columns, key []string) (*rowScanner, error) {
	r := &rowScanner{at: slices.Index(columns, "collected_at"), digest: xxhash.New()}
	if r.at < 0 {
		return nil, errors.New("no collected_at column")
	}
	r.last = r.at
	r.contig = true
	for i, k := range key {
		j := slices.Index(columns, k)
		if j < 0 {
			return nil, fmt.Errorf("key column %s missing", k)
		}
		if i > 0 && j != r.keys[i-1]+1 {
			r.contig = false
		}
		r.keys = append(r.keys, j)
		r.last = max(r.last, j)
	}
	r.starts = make([]int, r.last+1)
	r.ends = make([]int, r.last+1)
	return r, nil
}

// scan returns the key of row (valid until the next call) and its hash.
func (r *rowScanner) scan(row []byte) ([]byte, uint64, error) {
	pos := 0
	for f := 0; f <= r.last; f++ {
		r.starts[f] = pos
		end := bytes.IndexByte(row[pos:], '\t')
		if end < 0 {
			if f < r.last {
				return nil, 0, fmt.Errorf("row has %d fields, column %d wanted", f+1, r.last+1)
			}
			end = len(row) - pos
		}
		r.ends[f] = pos + end
		pos += end + 1
	}
	var key []byte
	if r.contig {
		key = row[r.starts[r.keys[0]]:r.ends[r.keys[len(r.keys)-1]]]
	} else {
		r.scratch = r.scratch[:0]
		for i, k := range r.keys {
			if i > 0 {
				r.scratch = append(r.scratch, '\t')
			}
			r.scratch = append(r.scratch, row[r.starts[k]:r.ends[k]]...)
		}
		key = r.scratch
	}
	r.digest.Reset()
	_, _ = r.digest.Write(row[:r.starts[r.at]])
	_, _ = r.digest.Write(row[r.ends[r.at]:])
	return key, r.digest.Sum64(), nil
}

// nextRow splits the first row off data: the row without its newline, and
// the rest.
func nextRow(data []byte) (row, rest []byte) {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return data[:i], data[i+1:]
	}
	return data, nil
}

// extraRows builds the COPY text of the rows the sink adds to a keyed
// probe's table: markers and tombstones. Columns are the probe's group
// columns (connection_id, collected_at and, database-scoped, database_name),
// its key columns and sample_kind.
type extraRows struct {
	columns []string
	buf     []byte
	rows    int64
}

// add appends one row: key is the key columns' COPY text (tab separated,
// as stored in the state) or nil for a marker.
func (e *extraRows) add(conn int64, at time.Time, db string, scoped bool, nkeys int, key []byte, kind string) {
	e.buf = strconv.AppendInt(e.buf, conn, 10)
	e.buf = append(e.buf, '\t')
	e.buf = at.UTC().AppendFormat(e.buf, "2006-01-02 15:04:05.999999Z07:00")
	if scoped {
		e.buf = append(e.buf, '\t')
		e.buf = appendCopyText(e.buf, db)
	}
	if key != nil {
		e.buf = append(e.buf, '\t')
		e.buf = append(e.buf, key...)
	} else {
		for range nkeys {
			e.buf = append(e.buf, "\t\\N"...)
		}
	}
	e.buf = append(e.buf, '\t')
	e.buf = append(e.buf, kind...)
	e.buf = append(e.buf, '\n')
	e.rows++
}

// appendCopyText appends s escaped for a COPY text field.
func appendCopyText(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			b = append(b, `\\`...)
		case '\t':
			b = append(b, `\t`...)
		case '\n':
			b = append(b, `\n`...)
		case '\r':
			b = append(b, `\r`...)
		default:
			b = append(b, c)
		}
	}
	return b
}
