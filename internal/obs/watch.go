package obs

import (
	"context"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/pgcollector/pgcollector/bus"
)

// The batch buffer counts as filling above fillWarn of its limit in
// unacknowledged batches, and as drained again below fillClear. The gap
// keeps a buffer hovering around one threshold from logging every check.
const (
	fillWarn  = 0.5
	fillClear = 0.25
)

// BufferWatch logs, once per episode, that the batch buffer is filling
// with unacknowledged batches (the sinks fall behind or the datastore is
// down) and once that it drained. The fetcher logs the buffer being full;
// this is the warning before that.
type BufferWatch struct {
	js    jetstream.JetStream
	log   *slog.Logger
	every time.Duration

	filling bool
}

// NewBufferWatch returns a watch over js that checks every interval
// (10 s when zero). It starts nothing.
func NewBufferWatch(js jetstream.JetStream, log *slog.Logger, every time.Duration) *BufferWatch {
	if every <= 0 {
		every = 10 * time.Second
	}
	return &BufferWatch{js: js, log: log, every: every}
}

// Run checks until ctx is cancelled and returns nil. A failed check is
// skipped: the bus logs its own outages.
func (w *BufferWatch) Run(ctx context.Context) error {
	t := time.NewTicker(w.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		backlog, _ := ReadBacklog(ctx, w.js)
		for _, b := range backlog {
			if b.Stream == bus.StreamBatches && b.Error == "" {
				w.check(b)
			}
		}
	}
}

func (w *BufferWatch) check(b Backlog) {
	filled := b.Filled()
	attrs := []any{"stream", b.Stream, "unacknowledged_batches", b.Unsettled(),
		"unacknowledged_bytes", bus.ByteSize(b.PendingBytes).String(), "max_bytes", bus.ByteSize(b.MaxBytes).String(),
		"filled_pct", int(filled * 100)}
	switch {
	case !w.filling && filled >= fillWarn:
		w.filling = true
		w.log.Warn("batch buffer filling with unacknowledged batches: the sinks are behind or the datastore is down", attrs...)
	case w.filling && filled < fillClear:
		w.filling = false
		w.log.Info("batch buffer drained", attrs...)
	}
}
