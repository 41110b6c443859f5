package obs

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/pgcollector/pgcollector/bus"
)

// Backlog is what one durable consumer has yet to settle, with the size of
// its stream.
type Backlog struct {
	Stream         string `json:"stream"`
	Consumer       string `json:"consumer"`
	Pending        uint64 `json:"pending"`         // stored, not yet delivered
	AckPending     int    `json:"ack_pending"`     // delivered, not yet acknowledged
	Redelivered    int    `json:"redelivered"`     // delivered more than once, not yet acknowledged
	StreamMessages uint64 `json:"stream_messages"` // everything the stream holds, acknowledged or not
	StreamBytes    uint64 `json:"stream_bytes"`
	MaxBytes       int64  `json:"max_bytes"` // the stream's limit; -1 when unlimited
	// PendingBytes estimates the bytes of the unsettled messages. A work
	// queue holds only those, so it is exact there; PGC_BATCHES also keeps
	// acknowledged batches for replay, so there it is the stream's bytes
	// scaled by the unsettled share of its messages (JetStream reports no
	// bytes per consumer).
	PendingBytes uint64 `json:"pending_bytes"`
	Error        string `json:"error,omitempty"`
}

// Unsettled is the consumer's messages not yet acknowledged.
func (b Backlog) Unsettled() uint64 { return b.Pending + uint64(max(b.AckPending, 0)) }

// Filled is PendingBytes as a share of MaxBytes, or 0 without a limit.
func (b Backlog) Filled() float64 {
	if b.MaxBytes <= 0 {
		return 0
	}
	return float64(b.PendingBytes) / float64(b.MaxBytes)
}

// consumers are the durable consumers of docs/design.md, in display order.
var consumers = []struct{ stream, consumer string }{
	{bus.StreamJobs, bus.ConsumerFetcher},
	{bus.StreamBatches, bus.ConsumerSink},
	{bus.StreamTimers, bus.ConsumerRetention},
}

// ReadBacklog asks JetStream for every stream's and consumer's state. A
// stream or consumer it cannot read is reported with Error set; the error
// returned is the first of them, so callers can tell "unknown" from zero.
func ReadBacklog(ctx context.Context, js jetstream.JetStream) ([]Backlog, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	out := make([]Backlog, 0, len(consumers))
	var first error
	for _, c := range consumers {
		b, err := readOne(ctx, js, c.stream, c.consumer)
		if err != nil {
			b.Error = err.Error()
			if first == nil {
				first = err
			}
		}
		out = append(out, b)
	}
	return out, first
}

func readOne(ctx context.Context, js jetstream.JetStream, stream, consumer string) (Backlog, error) {
	b := Backlog{Stream: stream, Consumer: consumer}
	s, err := js.Stream(ctx, stream)
	if err != nil {
		return b, fmt.Errorf("stream %s: %w", stream, err)
	}
	si := s.CachedInfo()
	b.StreamMessages, b.StreamBytes, b.MaxBytes = si.State.Msgs, si.State.Bytes, si.Config.MaxBytes
	c, err := s.Consumer(ctx, consumer)
	if err != nil {
		return b, fmt.Errorf("consumer %s > %s: %w", stream, consumer, err)
	}
	ci := c.CachedInfo()
	b.Pending, b.AckPending, b.Redelivered = ci.NumPending, ci.NumAckPending, ci.NumRedelivered
	switch {
	case si.Config.Retention == jetstream.WorkQueuePolicy:
		b.PendingBytes = b.StreamBytes
	case b.StreamMessages > 0:
		share := min(float64(b.Unsettled())/float64(b.StreamMessages), 1)
		b.PendingBytes = uint64(share * float64(b.StreamBytes))
	}
	return b, nil
}
