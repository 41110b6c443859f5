package bus

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// StreamSchedule holds the schedulers' checkpoint: per probe, the last
// slot published for every connection. A scheduler that starts reads it
// and does not publish again a slot in progress that an earlier run (or
// another scheduler) already published. Without it a restart would run
// the current slot of every pair a second time: JetStream forgets the ids
// of jobs that were acknowledged and removed from the work queue once the
// embedded server restarts, and a remote one forgets them after the
// duplicate window.
const StreamSchedule = "PGC_SCHEDULE"

const scheduleSubjectPrefix = "pgc.schedule."

// ScheduleSubject is the subject of probe's checkpoint.
func ScheduleSubject(probe string) string { return scheduleSubjectPrefix + probe }

// scheduleMaxBytes bounds PGC_SCHEDULE: one message per probe of ~6 bytes
// a connection, 60 KB each at 10,000 servers.
const scheduleMaxBytes = 64 * int64(MiB)

// scheduleVersion is the first byte of a checkpoint message.
const scheduleVersion = 1

// ProbeSlots is one probe's checkpoint: the interval its slots are
// numbered by, and the last slot published per connection.
type ProbeSlots struct {
	Probe           string
	IntervalSeconds int
	Slots           map[int64]int64 // connection id → slot
}

// encodeSlots writes p as: version, interval, count, then per connection
// in ascending id order the id's difference from the previous one and the
// slot's zigzag difference from the previous slot, all varints. The slots
// of one probe are within one of each other, so an entry takes ~3 bytes.
func encodeSlots(p ProbeSlots) []byte {
	ids := make([]int64, 0, len(p.Slots))
	for id := range p.Slots {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	out := make([]byte, 0, 16+len(ids)*4)
	out = append(out, scheduleVersion)
	out = binary.AppendUvarint(out, uint64(p.IntervalSeconds))
	out = binary.AppendUvarint(out, uint64(len(ids)))
	var prevID, prevSlot int64
	for _, id := range ids {
		out = binary.AppendVarint(out, id-prevID)
		out = binary.AppendVarint(out, p.Slots[id]-prevSlot)
		prevID, prevSlot = id, p.Slots[id]
	}
	return out
}

// decodeSlots reads what encodeSlots wrote.
func decodeSlots(probe string, data []byte) (ProbeSlots, error) {
	bad := func(what string) (ProbeSlots, error) {
		return ProbeSlots{}, fmt.Errorf("schedule checkpoint of %s: %s", probe, what)
	}
	if len(data) == 0 || data[0] != scheduleVersion {
		return bad("unknown version")
	}
	data = data[1:]
	next := func(signed bool) (int64, bool) {
		var v int64
		var n int
		if signed {
			v, n = binary.Varint(data)
		} else {
			var u uint64
			u, n = binary.Uvarint(data)
			v = int64(u)
		}
		if n <= 0 {
			return 0, false
		}
		data = data[n:]
		return v, true
	}
	interval, ok1 := next(false)
	count, ok2 := next(false)
	if !ok1 || !ok2 || interval <= 0 || interval > 1<<31 || count < 0 || count > int64(len(data)) {
		return bad("bad header")
	}
	p := ProbeSlots{Probe: probe, IntervalSeconds: int(interval), Slots: make(map[int64]int64, count)}
	var id, slot int64
	for range count {
		dID, ok1 := next(true)
		dSlot, ok2 := next(true)
		if !ok1 || !ok2 {
			return bad("truncated")
		}
		id, slot = id+dID, slot+dSlot
		p.Slots[id] = slot
	}
	if len(data) != 0 {
		return bad("trailing bytes")
	}
	return p, nil
}

// SaveSchedule stores one probe's checkpoint, replacing the last one
// (the stream keeps one message per subject).
func (b *Bus) SaveSchedule(ctx context.Context, p ProbeSlots) error {
	if err := checkToken("probe", p.Probe); err != nil {
		return fmt.Errorf("save schedule: %w", err)
	}
	if _, err := b.js.Publish(ctx, ScheduleSubject(p.Probe), encodeSlots(p)); err != nil {
		return fmt.Errorf("save schedule of %s: %w", p.Probe, err)
	}
	return nil
}

// LoadSchedule reads the checkpoints of probes. A probe without one is
// left out; one that cannot be read is left out too and its error joined
// to the result, so a damaged message costs only its own probe.
func (b *Bus) LoadSchedule(ctx context.Context, probes []string) ([]ProbeSlots, error) {
	s, err := b.js.Stream(ctx, StreamSchedule)
	if err != nil {
		return nil, fmt.Errorf("schedule stream: %w", err)
	}
	var out []ProbeSlots
	var errs []error
	for _, probe := range probes {
		m, err := s.GetLastMsgForSubject(ctx, ScheduleSubject(probe))
		switch {
		case errors.Is(err, jetstream.ErrMsgNotFound):
			continue
		case err != nil:
			return out, errors.Join(append(errs, fmt.Errorf("load schedule of %s: %w", probe, err))...)
		}
		p, err := decodeSlots(probe, m.Data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, p)
	}
	return out, errors.Join(errs...)
}

// scheduleStreamConfig declares PGC_SCHEDULE.
func (b *Bus) scheduleStreamConfig() jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:              StreamSchedule,
		Description:       "pgcollector: the schedulers' last published slot per connection and probe",
		Subjects:          []string{scheduleSubjectPrefix + ">"},
		Retention:         jetstream.LimitsPolicy,
		Storage:           jetstream.FileStorage,
		MaxMsgsPerSubject: 1,
		MaxBytes:          scheduleMaxBytes,
		Discard:           jetstream.DiscardOld,
		MaxAge:            8 * 24 * time.Hour, // a probe removed from the catalogue leaves its message
		Replicas:          b.cfg.StreamReplicas,
	}
}
