package fleetsim

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"time"
)

// reply is a recorded answer to one request: the backend messages up to
// and including ReadyForQuery, each as the bytes the cluster sent.
type reply struct {
	msgs [][]byte // encoded messages: type byte, length, payload
	at   time.Time
	// rows holds, for CopyData messages with counters, how to write them
	// at a later moment; nil entries are written as recorded.
	rows []*counterRow
}

// counterRow is one COPY text row whose integer fields advance: the
// bytes between them, their values when recorded and their rates.
type counterRow struct {
	segs [][]byte // len(base)+1 pieces around the counters
	base []int64
	rate []float64 // per second, as seen between the two recordings
}

// msgType is the message type of an encoded message.
func msgType(m []byte) byte { return m[0] }

// copyFields splits a CopyData message's row into its fields (the row's
// newline stripped). COPY text escapes tabs inside values, so a raw tab
// always separates fields.
func copyFields(m []byte) [][]byte {
	row := bytes.TrimSuffix(m[5:], []byte{'\n'})
	return bytes.Split(row, []byte{'\t'})
}

// withCounters makes b the reply to serve, with the integer fields that
// grew since a marked as counters. Replies of a different shape (rows
// added or gone) are served as b, without counters. Rows are matched by
// position, so a row with an integer field that went down is taken for a
// different object in that place (a top-N list such as pg_stat_statements
// reorders between recordings) and served as recorded: advancing its
// queryid would make every run a new set of objects.
func withCounters(a, b *reply) *reply {
	out := &reply{msgs: b.msgs, at: b.at, rows: make([]*counterRow, len(b.msgs))}
	if len(a.msgs) != len(b.msgs) {
		return out
	}
	dt := b.at.Sub(a.at).Seconds()
	if dt <= 0 {
		return out
	}
	for i := range b.msgs {
		ma, mb := a.msgs[i], b.msgs[i]
		if msgType(ma) != msgType(mb) || msgType(mb) != 'd' {
			continue
		}
		fa, fb := copyFields(ma), copyFields(mb)
		if len(fa) != len(fb) {
			continue
		}
		var cr counterRow
		seg := []byte{}
		other := false
		for j := range fb {
			if j > 0 {
				seg = append(seg, '\t')
			}
			va, errA := strconv.ParseInt(string(fa[j]), 10, 64)
			vb, errB := strconv.ParseInt(string(fb[j]), 10, 64)
			if errA == nil && errB == nil && vb < va {
				other = true
				break
			}
			if errA == nil && errB == nil && vb > va {
				cr.segs = append(cr.segs, seg)
				cr.base = append(cr.base, vb)
				cr.rate = append(cr.rate, float64(vb-va)/dt)
				seg = []byte{}
				continue
			}
			seg = append(seg, fb[j]...)
		}
		if other || len(cr.base) == 0 {
			continue
		}
		cr.segs = append(cr.segs, append(seg, '\n'))
		out.rows[i] = &cr
	}
	return out
}

// appendMsg appends message i of the reply as it reads at now.
func (r *reply) appendMsg(dst []byte, i int, now time.Time) []byte {
	if r.rows == nil || r.rows[i] == nil {
		return append(dst, r.msgs[i]...)
	}
	cr := r.rows[i]
	start := len(dst)
	dst = append(dst, 'd', 0, 0, 0, 0)
	el := now.Sub(r.at).Seconds()
	for k, s := range cr.segs {
		dst = append(dst, s...)
		if k < len(cr.base) {
			dst = strconv.AppendInt(dst, cr.base[k]+int64(cr.rate[k]*el), 10)
		}
	}
	binary.BigEndian.PutUint32(dst[start+1:], uint32(len(dst)-start-1))
	return dst
}
