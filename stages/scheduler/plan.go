package scheduler

import (
	"container/heap"
	"time"

	"github.com/pgcollector/pgcollector/bus"
	"github.com/pgcollector/pgcollector/internal/catalog"
)

// entry is one (connection, probe) of the schedule.
type entry struct {
	key
	interval int
	phase    uint32 // phaseHash(conn, probe), hashed once
	off      int64  // Offset(conn, probe, interval)
	next     int64  // unix second at which the entry is looked at again
	order    uint32 // ties between entries due on the same second
	last     last   // the job most recently published, if sent
	sent     bool
	seq      uint64 // that job's sequence in the queue, 0 if unknown
	index    int    // position in the heap
}

// plan is the schedule: every enabled (connection, probe) ordered by the
// second its next slot begins. A tick looks only at the entries that are
// due instead of walking the whole fleet, and sync, which does walk it,
// runs only when the configuration changed.
type plan struct {
	entries map[key]*entry
	queue   entryHeap
	// resume holds the slots earlier runs published (checkpoint.go), for
	// the first sync to adopt; it is dropped then.
	resume map[key]mark
}

func newPlan() *plan { return &plan{entries: map[key]*entry{}} }

// sync adopts a new configuration. A newly seen pair publishes its
// current slot before the slot ends (catchUpDelay); a pair whose interval
// changed is looked at now as well, and due decides whether its current
// slot still needs a job; removed pairs leave the schedule. A pair whose
// slot in progress an earlier run published (resume) waits for its next.
func (p *plan) sync(conns []catalog.Connection, cfgs map[string]catalog.ProbeConfig, known map[string]bool, now time.Time) {
	seen := make(map[key]bool, len(p.entries))
	for _, c := range conns {
		for name, pc := range cfgs {
			if !pc.Enabled || !known[name] || pc.IntervalSeconds <= 0 {
				continue
			}
			k := key{c.ID, name}
			seen[k] = true
			e := p.entries[k]
			switch {
			case e == nil:
				h := phaseHash(k.conn, k.probe)
				e = &entry{key: k, interval: pc.IntervalSeconds, phase: h, order: order(h)}
				e.off = int64(h % uint32(e.interval))
				if !p.adopt(e, now) {
					e.next = now.Unix() + e.catchUpDelay(now)
				}
				p.entries[k] = e
				heap.Push(&p.queue, e)
			case e.interval != pc.IntervalSeconds:
				e.interval = pc.IntervalSeconds
				e.off = int64(e.phase % uint32(e.interval))
				e.next = now.Unix()
				heap.Fix(&p.queue, e.index)
			}
		}
	}
	for k, e := range p.entries {
		if !seen[k] {
			heap.Remove(&p.queue, e.index)
			delete(p.entries, k)
		}
	}
	p.resume = nil
}

// catchUpSpread bounds how long the first job of a newly seen pair may
// wait. See catchUpDelay.
const catchUpSpread = 5 * 60

// catchUpDelay is when, in seconds from now, a newly seen pair publishes
// its current slot. The slot has begun already, so it is caught up rather
// than skipped, but not at once: a fresh start of a fleet of N servers
// would otherwise queue N × 34 jobs in one second, and the jobs of the
// 30-second probes behind them would go stale before the fetchers reached
// them. The delay is spread over what is left of the slot, at most five
// minutes, so the job is still on time and a start asks the servers for
// about what the steady state does, not for a burst the fetchers take
// minutes to work off while every server also gets its first sessions.
//
// A longer interval that catchUpSpread divides waits for the rest of the
// catchUpSpread-long slot of the same phase instead: its slots begin on
// those boundaries, so the job is still in its slot, and the database
// probes of a connection, which share a phase, all get the same window
// and the same delay, the hourly one too: one burst at first sight.
func (e *entry) catchUpDelay(now time.Time) int64 {
	grid := e.interval
	if grid > catchUpSpread && grid%catchUpSpread == 0 {
		grid = catchUpSpread
	}
	_, start := slotOf(now, int64(e.phase%uint32(grid)), grid)
	window := min(start.Unix()+int64(grid)-now.Unix(), catchUpSpread)
	if window <= 1 {
		return 0
	}
	return int64(e.order) % window
}

// due returns the entry to look at next if it is due at now.
func (p *plan) due(now time.Time) *entry {
	if len(p.queue) == 0 || p.queue[0].next > now.Unix() {
		return nil
	}
	return p.queue[0]
}

// job returns the job e needs at now, if any. Call done afterwards, with
// published telling whether the job went out.
func (e *entry) job(now time.Time) (bus.Job, bool) {
	slot, start := slotOf(now, e.off, e.interval)
	if !due(e.last, e.sent, e.interval, slot, start) {
		return bus.Job{}, false
	}
	return bus.Job{ConnectionID: e.conn, Probe: e.probe, Slot: slot, IntervalSeconds: e.interval, ScheduledAt: start}, true
}

// done moves e to its next slot. published is false when the current slot
// was not due (already served); the entry then only advances.
func (p *plan) done(e *entry, now time.Time, published bool) {
	slot, start := slotOf(now, e.off, e.interval)
	switch {
	case published:
		e.last, e.sent = last{e.interval, slot, now}, true
	case e.last.interval != e.interval:
		// The current slot of the new interval counts as served by the
		// old schedule's last job.
		e.last = last{e.interval, slot, e.last.at}
	}
	e.next = start.Unix() + int64(e.interval)
	heap.Fix(&p.queue, e.index)
}

// slotOf is SlotAt with the offset already known.
func slotOf(t time.Time, off int64, interval int) (int64, time.Time) {
	slot := (t.Unix() - off) / int64(interval)
	return slot, time.Unix(slot*int64(interval)+off, 0).UTC()
}

// order spreads the entries that are due on the same second (every pair at
// start) over the fleet: consecutive jobs then go to different servers
// instead of one server's 34 probes in a row queueing for its sessions.
// The database probes of a connection share their order as they share
// their phase, so they are caught up together at start too.
func order(phase uint32) uint32 {
	// Mixed again, so that the order is not the offset.
	return phase*2654435761 ^ phase>>16
}

// entryHeap orders entries by next, then order.
type entryHeap []*entry

func (h entryHeap) Len() int { return len(h) }
func (h entryHeap) Less(i, j int) bool {
	if h[i].next != h[j].next {
		return h[i].next < h[j].next
	}
	return h[i].order < h[j].order
}
func (h entryHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *entryHeap) Push(x any) {
	e := x.(*entry)
	e.index = len(*h)
	*h = append(*h, e)
}
func (h *entryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	e.index = -1
	return e
}
