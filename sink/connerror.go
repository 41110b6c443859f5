package sink

import (
	"cmp"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgcollector/pgcollector/bus"
)

// connState is what a flush learnt about a monitored connection from its
// newest batch: a connection-level failure (err set) or a delivered rows
// batch (err empty), at collection time at.
type connState struct {
	err string
	at  time.Time
}

// noteConnection keeps the newest connection state of a flush. Only rows
// batches prove that the server answered; a status batch that is not a
// connection error says nothing about the connection.
func (p *plan) noteConnection(b bus.Batch, t time.Time) {
	var st connState
	switch {
	case b.ConnectionError:
		st = connState{err: b.Reason, at: t}
	case b.Kind == bus.KindRows:
		st = connState{at: t}
	default:
		return
	}
	if p.conns == nil {
		p.conns = map[int64]connState{}
	}
	if cur, ok := p.conns[b.ConnectionID]; !ok || !st.at.Before(cur.at) {
		p.conns[b.ConnectionID] = st
	}
}

// connErrorSQL sets or clears connections.connection_error, writing only
// rows whose value changes: a healthy connection's row is not touched.
const connErrorSQL = `
UPDATE public.connections AS c SET connection_error = k.e
FROM unnest($1::bigint[], $2::text[]) AS k(id, e)
WHERE c.id = k.id AND c.connection_error IS DISTINCT FROM k.e`

// queueConnectionErrors adds the connection_error update of a plan to a
// state batch. Ids are sorted so that concurrent sinks lock connection
// rows in the same order.
func queueConnectionErrors(batch *pgx.Batch, p *plan) {
	if len(p.conns) == 0 {
		return
	}
	ids := make([]int64, 0, len(p.conns))
	for id := range p.conns {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, cmp.Compare)
	errs := make([]*string, len(ids))
	for i, id := range ids {
		if e := p.conns[id].err; e != "" {
			errs[i] = &e
		}
	}
	batch.Queue(connErrorSQL, ids, errs)
}
