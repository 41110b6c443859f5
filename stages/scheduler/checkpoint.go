package scheduler

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/pgcollector/pgcollector/bus"
	"github.com/pgcollector/pgcollector/probes"
)

// Checkpointer stores what the scheduler published, for the next run;
// *bus.Bus is one (PGC_SCHEDULE). A Publisher that is not one leaves the
// scheduler without a checkpoint: a start then publishes every slot in
// progress, as if the schedule began with it.
type Checkpointer interface {
	SaveSchedule(ctx context.Context, p bus.ProbeSlots) error
	LoadSchedule(ctx context.Context, probes []string) ([]bus.ProbeSlots, error)
}

const (
	// checkpointEvery spaces the checkpoints. A crash loses what was
	// published since the last one: those slots may run again after the
	// restart (never stored twice: the sink's ledger skips them).
	checkpointEvery = 30 * time.Second
	// checkpointTimeout bounds loading or saving the checkpoint, so a slow
	// bus delays the first jobs or a shutdown by this much at most.
	checkpointTimeout = 10 * time.Second
)

// mark is a slot an earlier run published, read from the checkpoint.
type mark struct {
	interval int
	slot     int64
}

// loadCheckpoint reads the slots earlier runs published, for plan.sync to
// adopt. Without them (none saved, bus unreachable) every pair's slot in
// progress is published, which only risks running it twice.
func (s *Scheduler) loadCheckpoint(ctx context.Context) {
	if s.ckpt == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, checkpointTimeout)
	defer cancel()
	names := make([]string, 0, len(probes.All))
	for _, p := range probes.All {
		names = append(names, p.Name)
	}
	got, err := s.ckpt.LoadSchedule(ctx, names)
	if err != nil && ctx.Err() == nil {
		s.log.Warn("schedule checkpoint not read in full; slots in progress that an earlier run published may run again",
			"err", err)
	}
	marks := map[key]mark{}
	for _, p := range got {
		for conn, slot := range p.Slots {
			marks[key{conn, p.Probe}] = mark{p.IntervalSeconds, slot}
		}
	}
	s.plan.resume = marks
	s.lastCheckpoint = s.now()
	s.log.Debug("schedule checkpoint read", "pairs", len(marks))
}

// checkpoint saves, per probe, the last slot published for every
// connection, once checkpointEvery has passed since the last save (or at
// once with force). Failures are logged once until a save succeeds.
func (s *Scheduler) checkpoint(ctx context.Context, force bool) {
	now := s.now()
	if s.ckpt == nil || !force && now.Sub(s.lastCheckpoint) < checkpointEvery {
		return
	}
	s.lastCheckpoint = now
	ctx, cancel := context.WithTimeout(ctx, checkpointTimeout)
	defer cancel()
	var errs []error
	for _, p := range s.plan.published() {
		if err := s.ckpt.SaveSchedule(ctx, p); err != nil {
			errs = append(errs, err)
			if ctx.Err() != nil {
				break
			}
		}
	}
	switch err := errors.Join(errs...); {
	case err != nil && !s.checkpointFailing:
		s.checkpointFailing = true
		s.log.Warn("cannot save the schedule checkpoint; retrying", "err", err)
	case err == nil && s.checkpointFailing:
		s.checkpointFailing = false
		s.log.Info("schedule checkpoint saved again")
	}
}

// published groups the last published slot of every pair by probe (an
// interval is set per probe, so one per group). A pair whose interval
// changed since its last job is left out: its slot numbers belong to the
// old interval.
func (p *plan) published() []bus.ProbeSlots {
	byProbe := map[string]*bus.ProbeSlots{}
	for _, e := range p.entries {
		if !e.sent || e.last.interval != e.interval {
			continue
		}
		ps := byProbe[e.probe]
		if ps == nil {
			ps = &bus.ProbeSlots{Probe: e.probe, IntervalSeconds: e.interval, Slots: map[int64]int64{}}
			byProbe[e.probe] = ps
		}
		ps.Slots[e.conn] = e.last.slot
	}
	out := make([]bus.ProbeSlots, 0, len(byProbe))
	for _, ps := range byProbe {
		out = append(out, *ps)
	}
	slices.SortFunc(out, func(a, b bus.ProbeSlots) int { return strings.Compare(a.Probe, b.Probe) })
	return out
}

// adopt gives a new entry the slot an earlier run published, if that is
// the slot in progress now under the same interval: the entry then waits
// for its next slot instead of catching this one up. It reports whether
// it did.
func (p *plan) adopt(e *entry, now time.Time) bool {
	m, ok := p.resume[e.key]
	if !ok || m.interval != e.interval {
		return false
	}
	slot, start := slotOf(now, e.off, e.interval)
	if m.slot != slot {
		return false
	}
	e.last, e.sent = last{e.interval, slot, start}, true
	e.next = start.Unix() + int64(e.interval)
	return true
}
