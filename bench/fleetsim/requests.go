package fleetsim

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// requests answers the session's requests until it ends. A request is
// every frontend message up to Query (simple protocol) or Sync (extended),
// kept as bytes: that is the recording's key.
func (ss *session) requests(ctx context.Context) {
	var req []byte
	text := ""
	for {
		msg, err := ss.be.Receive()
		if err != nil {
			return
		}
		switch m := msg.(type) {
		case *pgproto3.Terminate:
			return
		case *pgproto3.Query:
			text = m.String
		case *pgproto3.Parse:
			text = m.Query
		}
		if req, err = msg.Encode(req); err != nil {
			return
		}
		switch msg.(type) {
		case *pgproto3.Query, *pgproto3.Sync:
			if !ss.answer(ctx, req, text) {
				return
			}
			req, text = req[:0], ""
		}
	}
}

var setTimeout = regexp.MustCompile(`SET LOCAL statement_timeout = (\d+)`)

// answer sends the reply to one request, as recorded or as the server's
// fault changes it; false closes the connection.
func (ss *session) answer(ctx context.Context, req []byte, text string) bool {
	st := &ss.s.stats
	st.Requests.Add(1)
	rctx, cancel := context.WithTimeout(ctx, time.Minute)
	rep, err := ss.s.rec.answer(rctx, ss.key, req)
	cancel()
	if err != nil {
		st.Errors.Add(1)
		ss.s.log.Warn("fleetsim: no reply", "user", ss.user, "err", err)
		ss.send(&pgproto3.ErrorResponse{Severity: "ERROR", SeverityUnlocalized: "ERROR", Code: "XX000", Message: err.Error()})
		ss.send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
		return ss.w.Flush() == nil
	}
	isCopy := strings.Contains(text, "COPY")
	switch f := ss.fault; {
	case f.Kind == FaultSlow && isCopy:
		st.Faults.Add(1)
		limit := ss.timeout
		if m := setTimeout.FindStringSubmatch(text); m != nil {
			ms, _ := strconv.Atoi(m[1])
			limit = time.Duration(ms) * time.Millisecond
		}
		if msg, ok := ss.sleep(ctx, f.Delay, limit); !ok {
			return ss.fail(rep, text, "57014", msg)
		}
	case f.Kind == FaultErrorRelation && strings.Contains(text, f.Relation):
		st.Faults.Add(1)
		return ss.fail(rep, text, "42P01", fmt.Sprintf("relation %q does not exist", f.Relation))
	case f.Kind == FaultDropMidCopy && isCopy:
		st.Faults.Add(1)
		ss.write(rep, dropPoint(rep))
		_ = ss.w.Flush()
		return false
	}
	ss.write(rep, len(rep.msgs))
	return ss.w.Flush() == nil
}

// sleep waits d, or less: until limit (statement_timeout, 0 for none) or
// a CancelRequest, which it reports as PostgreSQL words them.
func (ss *session) sleep(ctx context.Context, d, limit time.Duration) (string, bool) {
	select {
	case <-ss.cancel:
	default:
	}
	why := ""
	if limit > 0 && limit < d {
		d, why = limit, "canceling statement due to statement timeout"
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return why, why == ""
	case <-ss.cancel:
		return "canceling statement due to user request", false
	case <-ctx.Done():
		return "terminating connection due to administrator command", false
	}
}

// fail sends what a cluster sends when the statement fails: the replies
// of the statements before it (BEGIN, SET), the error, and ReadyForQuery
// in a failed transaction if one was open.
func (ss *session) fail(rep *reply, text, code, msg string) bool {
	n := 0
	for n < len(rep.msgs) {
		if t := msgType(rep.msgs[n]); t == 'H' || t == 'T' || t == 'E' || t == 'Z' {
			break
		}
		n++
	}
	ss.write(rep, n)
	ss.send(&pgproto3.ErrorResponse{Severity: "ERROR", SeverityUnlocalized: "ERROR", Code: code, Message: msg})
	status := byte('I')
	if strings.HasPrefix(text, "BEGIN") {
		status = 'E'
	}
	ss.send(&pgproto3.ReadyForQuery{TxStatus: status})
	return ss.w.Flush() == nil
}

// dropPoint is how many messages go out before a drop-mid-copy server
// closes the connection: the COPY's start and half its rows.
func dropPoint(rep *reply) int {
	first, rows := -1, 0
	for i, m := range rep.msgs {
		switch msgType(m) {
		case 'H':
			first = i
		case 'd':
			rows++
		}
	}
	if first < 0 {
		return len(rep.msgs) / 2
	}
	return first + 1 + rows/2
}

// write sends the reply's first n messages, counters as of now.
func (ss *session) write(rep *reply, n int) {
	now := time.Now()
	st := &ss.s.stats
	var rows, bytes int64
	for i := range n {
		m := rep.msgs[i]
		if rep.rows != nil && rep.rows[i] != nil {
			ss.scratch = rep.appendMsg(ss.scratch[:0], i, now)
			m = ss.scratch
		}
		_, _ = ss.w.Write(m)
		bytes += int64(len(m))
		if t := msgType(rep.msgs[i]); t == 'd' || t == 'D' {
			rows++
		}
	}
	st.RowsServed.Add(rows)
	st.BytesServed.Add(bytes)
}
