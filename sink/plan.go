package sink

import (
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/pgcollector/pgcollector/bus"
	"github.com/pgcollector/pgcollector/internal/bufpool"
)

// item is one decoded message of a flush.
type item struct {
	msg jetstream.Msg
	b   bus.Batch
	buf []byte // b.Data's buffer from bufpool, if its body was decoded into one
	// data replaces b.Data in the COPY when filtered: the rows of a delta
	// run that changed (dedup.go), in a buffer from bufpool. b.Data stays
	// whole, so a retried write decides again from the same rows. An item
	// that owns its buffer is filtered in place instead (b.Data shrinks to
	// the rows kept), and a retry decodes its message again (redecode).
	data     []byte
	filtered bool
	// tried is set once a write used the item: pgx may still read b.Data
	// after a broken COPY, and b.Data may be filtered in place.
	tried bool
}

// owned reports whether b.Data is the item's own decoded buffer, which
// dedup may filter in place because the message can be decoded again.
// A body that was not compressed is the message's data itself, and an
// Ingester's batches belong to its caller.
func (it *item) owned() bool { return it.msg != nil && it.buf != nil }

// redecode gives an owned item a fresh copy of its batch, decoded again
// from the message, for a write that must not use what an earlier one
// left: rows filtered in place, or a buffer a broken COPY may still read.
// The old buffer is left to the garbage collector for that reason.
func (it *item) redecode() error {
	var buf []byte
	b, err := bus.DecodeBatchInto(it.msg.Data(), it.msg.Headers(), func(n int) []byte {
		buf = bufpool.Get(n)
		return buf
	})
	if err != nil {
		bufpool.Put(buf)
		return fmt.Errorf("decode batch %s again: %w", it.b.ID, err)
	}
	it.b, it.buf, it.data, it.filtered = b, buf, nil, false
	return nil
}

// copyData is what the COPY of the item stores.
func (it *item) copyData() []byte {
	if it.filtered {
		return it.data
	}
	return it.b.Data
}

// release gives the item's buffers back once nothing reads them.
func (it *item) release() {
	bufpool.Put(it.buf)
	if it.filtered {
		bufpool.Put(it.data)
	}
	it.buf, it.b.Data, it.data, it.filtered = nil, nil, nil, false
}

// stateKey names the per-probe state rows: probe_state, probe_availability
// and snapshot_state.
type stateKey struct {
	conn  int64
	db    string
	probe string
}

// recorded is what the ledger (and this flush so far) holds for a batch id:
// the collection time of the run that was kept, and its parts.
type recorded struct {
	at    time.Time
	parts map[int]bool
}

// snapshot is a row of snapshot_state.
type snapshot struct {
	hash string
	at   time.Time
}

// availability is a row of probe_availability to write.
type availability struct {
	available bool
	reason    *string
	at        time.Time
}

// failure is a probe_state error to write.
type failure struct {
	reason string
	at     time.Time
}

// plan is what one write does, decided from the messages, the ledger and
// the last snapshots before anything is written.
type plan struct {
	groups     map[string][]*item // rows to COPY, by table and column list
	ledger     []*item            // parts to record in the ledger
	duplicates int                // parts skipped: already in the ledger
	unchanged  int                // parts skipped: snapshot equal to the last one
	statuses   int                // status batches
	success    map[stateKey]time.Time
	avail      map[stateKey]availability
	failures   map[stateKey]failure
	snapshots  map[stateKey]snapshot // changed snapshots
	conns      map[int64]connState   // newest connection state (connerror.go)
}

// at is the collection time as the datastore keeps it: timestamptz has
// microseconds, and the ledger comparison must not fail on the nanoseconds
// a round trip loses. It rounds, as PostgreSQL does when it reads the
// same instant from the rows' COPY text.
func at(b bus.Batch) time.Time { return b.CollectedAt.UTC().Round(time.Microsecond) }

// groupKey is the COPY target of a batch: its table and column list.
func groupKey(b bus.Batch) string { return b.Probe + "\x00" + strings.Join(b.Columns, "\x00") }

// makePlan decides, in delivery order, what happens to each item. ledger
// holds the recorded parts of the flush's batch ids; snaps the last stored
// snapshot of the flush's change-tracked keys. Both maps are updated as
// items are accepted, so duplicates within one flush are caught too.
func makePlan(items []*item, ledger map[string]*recorded, snaps map[stateKey]snapshot) *plan {
	p := &plan{
		groups:    map[string][]*item{},
		success:   map[stateKey]time.Time{},
		avail:     map[stateKey]availability{},
		failures:  map[stateKey]failure{},
		snapshots: map[stateKey]snapshot{},
	}
	for _, it := range items {
		b := it.b
		k := stateKey{b.ConnectionID, b.Database, b.Probe}
		t := at(b)
		p.noteConnection(b, t)
		if b.Kind == bus.KindStatus {
			// Status batches are not in the ledger: their writes are
			// idempotent and ordered by time, and a status must not stop
			// the rows of a later run of the same slot.
			p.statuses++
			if b.Unavailable {
				reason := b.Reason
				p.setAvail(k, availability{available: false, reason: &reason, at: t})
			} else if f, ok := p.failures[k]; !ok || t.After(f.at) {
				p.failures[k] = failure{reason: b.Reason, at: t}
			}
			continue
		}
		r := ledger[b.ID]
		if r != nil && (!r.at.Equal(t) || r.parts[b.Part]) {
			// Either this part is stored, or another run of the same slot
			// (the fetcher crashed before acking its job) got there first
			// and is the one kept.
			p.duplicates++
			continue
		}
		if r == nil {
			r = &recorded{at: t, parts: map[int]bool{}}
			ledger[b.ID] = r
		}
		r.parts[b.Part] = true
		p.ledger = append(p.ledger, it)
		if last, ok := p.success[k]; !ok || t.After(last) {
			p.success[k] = t
		}
		p.setAvail(k, availability{available: true, at: t})
		if b.Hash != "" {
			last, ok := snaps[k]
			if ok && last.hash == b.Hash && !last.at.Equal(t) {
				// Equal to the last stored snapshot of an earlier run.
				// Parts of the run that stored it share its time and are
				// stored below.
				p.unchanged++
				continue
			}
			if !ok || (last.hash != b.Hash && !t.Before(last.at)) {
				snaps[k] = snapshot{hash: b.Hash, at: t}
				p.snapshots[k] = snaps[k]
			}
		}
		gk := groupKey(b)
		p.groups[gk] = append(p.groups[gk], it)
	}
	return p
}

// setAvail keeps the newest availability of a key.
func (p *plan) setAvail(k stateKey, a availability) {
	if cur, ok := p.avail[k]; !ok || !a.at.Before(cur.at) {
		p.avail[k] = a
	}
}
