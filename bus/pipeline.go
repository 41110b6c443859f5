package bus

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ErrBufferFull means PGC_BATCHES is full of batches the sinks have not
// acknowledged yet, so JetStream refused a new one. Nothing was dropped:
// the caller keeps its batch (or lets the job be redelivered) and pauses
// collection until the sinks catch up.
var ErrBufferFull = errors.New("batch buffer full of unacknowledged batches (PGC_BUFFER_MAX_BYTES)")

// JetStream error codes that mean "no space" (nats-server errors.json).
const (
	errCodeStoreFailed          = 10077 // "maximum bytes exceeded" with DiscardNew, among others
	errCodeStorageExceeded      = 10047 // insufficient storage resources available
	errCodeAccountExceeded      = 10002 // resource limits exceeded for account
	errCodeInsufficientResource = 10023 // insufficient resources
	errCodeTooManyRequests      = 10167 // 429: the stream's inbound queue is full
)

// pending is one part published but not yet acknowledged.
type pending struct {
	index  int
	weight int64
	ack    jetstream.PubAckFuture
}

// publishParts publishes msgs asynchronously, keeping the unacknowledged
// bytes of all callers under b.inflightSize, and returns each part's
// result. Every ack is checked on its own: PublishAsyncComplete fires even
// when some publishes failed.
func (b *Bus) publishParts(ctx context.Context, msgs []*nats.Msg) []error {
	errs := make([]error, len(msgs))
	var window []pending
	settle := func() {
		p := window[0]
		window = window[1:]
		select {
		case <-p.ack.Ok():
		case err := <-p.ack.Err():
			errs[p.index] = err
		case <-ctx.Done():
			errs[p.index] = ctx.Err()
		}
		b.inflight.Release(p.weight)
	}
	for i, m := range msgs {
		if err := ctx.Err(); err != nil {
			for j := i; j < len(msgs); j++ {
				errs[j] = err
			}
			break
		}
		weight := int64(msgSize(m))
		// Wait for our own oldest part before blocking on others: a caller
		// only blocks in Acquire while it holds nothing, so callers cannot
		// wait on each other in a circle.
		for !b.inflight.TryAcquire(weight) {
			if len(window) > 0 {
				settle()
				continue
			}
			if err := b.inflight.Acquire(ctx, weight); err != nil {
				for j := i; j < len(msgs); j++ {
					errs[j] = err
				}
				return errs // the window is empty here
			}
			break
		}
		ack, err := b.js.PublishMsgAsync(m)
		if err != nil {
			b.inflight.Release(weight)
			errs[i] = err
			continue
		}
		window = append(window, pending{index: i, weight: weight, ack: ack})
	}
	for len(window) > 0 {
		settle()
	}
	return errs
}

// outcome sums up a round of part results.
type outcome struct {
	full      error // some part was refused for lack of space
	fatal     error // some part failed in a way a resend will not fix
	transient error // some part failed in a way a resend may fix
}

// classify returns the parts to resend and why the others failed.
func classify(msgs []*nats.Msg, errs []error) ([]*nats.Msg, outcome) {
	var failed []*nats.Msg
	var r outcome
	for i, err := range errs {
		if err == nil {
			continue
		}
		failed = append(failed, msgs[i])
		err = fmt.Errorf("%s: %w", partLabel(msgs[i]), err)
		switch {
		case isBufferFull(err):
			r.full = err
		case isTransient(err):
			r.transient = err
		case r.fatal == nil:
			r.fatal = err
		}
	}
	return failed, r
}

// isBufferFull recognises JetStream refusing a message for lack of space:
// the stream's MaxBytes with DiscardNew, or the account or server store.
func isBufferFull(err error) bool {
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	switch apiErr.ErrorCode {
	case errCodeStorageExceeded, errCodeAccountExceeded, errCodeInsufficientResource:
		return true
	case errCodeStoreFailed:
		d := strings.ToLower(apiErr.Description)
		return strings.Contains(d, "maximum bytes") || strings.Contains(d, "maximum messages")
	}
	return false
}

// isTransient recognises failures that a resend of the same message id
// may cure: back-pressure, lost acks, reconnects, leader elections.
func isTransient(err error) bool {
	if errors.Is(err, jetstream.ErrAsyncPublishTimeout) ||
		errors.Is(err, jetstream.ErrTooManyStalledMsgs) ||
		errors.Is(err, jetstream.ErrNoStreamResponse) ||
		errors.Is(err, nats.ErrDisconnected) ||
		errors.Is(err, nats.ErrConnectionReconnecting) ||
		errors.Is(err, nats.ErrNoResponders) ||
		errors.Is(err, nats.ErrTimeout) {
		return true
	}
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode == errCodeTooManyRequests || apiErr.Code == 429 || apiErr.Code == 503
	}
	return false
}
