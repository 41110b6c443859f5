package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/pgcollector/pgcollector/bus"
)

// untilGrace is how long after --until replay keeps reading: a batch is
// stored in the stream shortly after it is collected, rarely more than a
// publish retry later.
const untilGrace = time.Minute

// replayFilter selects the batches to replay: collected in [since, until]
// (until zero: up to now), of one probe and one connection when set.
type replayFilter struct {
	since, until time.Time
	probe        string
	connection   int64
}

// replayReader reads PGC_BATCHES from --since with an ephemeral consumer of
// its own: the sinks' durable consumer and its acknowledgements are not
// touched, and the server deletes the consumer by itself should replay die.
type replayReader struct {
	cons     jetstream.Consumer
	f        replayFilter
	maxBytes int    // bytes one fetch asks for: at least one message of the largest size
	total    uint64 // messages matching the subject filter from since, at start
	lastSeq  uint64 // the stream's last message at start: replay stops there
	done     bool
}

func newReplayReader(ctx context.Context, js jetstream.JetStream, f replayFilter) (*replayReader, error) {
	stream, err := js.Stream(ctx, bus.StreamBatches)
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", bus.StreamBatches, err)
	}
	subject := bus.BatchSubject(">")
	if f.probe != "" {
		subject = bus.BatchSubject(f.probe)
	}
	// JetStream stores a batch after it was collected, so reading from
	// the stream time since misses nothing collected since then.
	start := f.since
	cons, err := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{
		Description:       "pgcollector replay",
		DeliverPolicy:     jetstream.DeliverByStartTimePolicy,
		OptStartTime:      &start,
		FilterSubject:     subject,
		AckPolicy:         jetstream.AckNonePolicy,
		InactiveThreshold: time.Minute,
		MemoryStorage:     true,
	})
	if err != nil {
		return nil, fmt.Errorf("create replay consumer on %s: %w", bus.StreamBatches, err)
	}
	r := &replayReader{cons: cons, f: f, lastSeq: stream.CachedInfo().State.LastSeq,
		maxBytes: max(8<<20, int(js.Conn().MaxPayload())+64<<10)}
	r.total = cons.CachedInfo().NumPending
	r.done = r.total == 0
	return r, nil
}

// close deletes the consumer; the server would after InactiveThreshold.
func (r *replayReader) close(ctx context.Context, js jetstream.JetStream) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = js.DeleteConsumer(ctx, bus.StreamBatches, r.cons.CachedInfo().Name)
}

// next returns the next messages in range, or none once the reader is
// done: at the stream's end as it was at start, or past until.
func (r *replayReader) next() ([]jetstream.Msg, error) {
	if r.done {
		return nil, nil
	}
	batch, err := r.cons.Fetch(512, jetstream.FetchMaxWait(2*time.Second), jetstream.FetchMaxBytes(r.maxBytes))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", bus.StreamBatches, err)
	}
	var out []jetstream.Msg
	got := 0
	for m := range batch.Messages() {
		got++
		md, err := m.Metadata()
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", bus.StreamBatches, err)
		}
		if md.Sequence.Stream > r.lastSeq || (!r.f.until.IsZero() && md.Timestamp.After(r.f.until.Add(untilGrace))) {
			r.done = true
			break
		}
		out = append(out, m)
		if md.NumPending == 0 || md.Sequence.Stream == r.lastSeq {
			r.done = true
		}
	}
	if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) {
		return out, fmt.Errorf("read %s: %w", bus.StreamBatches, err)
	}
	if got == 0 {
		// Nothing arrived within the wait: what was there is read.
		r.done = true
	}
	return out, nil
}

// wants reports whether a decoded batch is in the filter's range.
func (f replayFilter) wants(b bus.Batch) bool {
	switch {
	case f.connection != 0 && b.ConnectionID != f.connection:
		return false
	case b.CollectedAt.Before(f.since):
		return false
	case !f.until.IsZero() && b.CollectedAt.After(f.until):
		return false
	}
	return true
}

// assembler holds the parts of split batches until all have been read, so
// that a forced replay replaces a sample with all of its rows.
type assembler struct {
	open map[string][]bus.Batch
}

// add returns the batches b completes: b itself when it is whole, all
// parts of its batch when it is the last one missing, else none.
func (a *assembler) add(b bus.Batch) []bus.Batch {
	if b.Parts <= 1 {
		return []bus.Batch{b}
	}
	if a.open == nil {
		a.open = map[string][]bus.Batch{}
	}
	// Two runs of one slot share an id but not a collection time.
	key := b.ID + "@" + strconv.FormatInt(b.CollectedAt.UnixNano(), 10)
	for _, p := range a.open[key] {
		if p.Part == b.Part {
			return nil // the same part published twice
		}
	}
	parts := append(a.open[key], b)
	if len(parts) < b.Parts {
		a.open[key] = parts
		return nil
	}
	delete(a.open, key)
	return parts
}

// incomplete returns the parts of batches still missing some, and forgets
// them.
func (a *assembler) incomplete() []bus.Batch {
	var out []bus.Batch
	for _, parts := range a.open {
		out = append(out, parts...)
	}
	a.open = nil
	return out
}
