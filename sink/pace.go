package sink

import (
	"context"
	"sync"
	"time"
)

// maxWorkers bounds PGC_SINK_WORKERS. Each worker holds one datastore
// connection for its flush; two were measured 40 % faster than one
// (docs/design.md, "Measured"), and many more only contend on the WAL.
const maxWorkers = 16

// After a datastore outage the backlog in PGC_BATCHES is written as fast as
// the sink can go, which is exactly when the datastore is least able to
// take it. Two things bound that drain: the workers (PGC_SINK_WORKERS), so
// one sink never holds more than that many COPY transactions open, and the
// pacer (PGC_SINK_MAX_ROWS_PER_SECOND), which spreads the writes of all
// workers over time. In steady state both are far from binding.

// pacer keeps the rows written per second under a limit, over all workers
// of one sink. A flush's row count is known only once it is written, so the
// pacer charges afterwards and makes the next flush wait, before its first
// fetch, until the rows already written are paid for. Waiting before the
// fetch matters: messages not yet fetched stay in the stream, where no
// AckWait runs out while the sink holds back.
//
// On average the rate stays at or below the limit; a single flush may go
// above it for a moment (each worker writes at most one flush ahead).
type pacer struct {
	perRow time.Duration // time one row costs; 0 means unlimited
	now    func() time.Time

	mu   sync.Mutex
	free time.Time // when everything charged so far is paid for
}

// newPacer returns a pacer for rowsPerSecond; 0 or less is unlimited.
func newPacer(rowsPerSecond float64) *pacer {
	p := &pacer{now: time.Now}
	if rowsPerSecond > 0 {
		p.perRow = max(time.Duration(float64(time.Second)/rowsPerSecond), 1)
	}
	return p
}

// limited reports whether the pacer has a limit at all.
func (p *pacer) limited() bool { return p.perRow > 0 }

// delay is how long the next flush must wait.
func (p *pacer) delay() time.Duration {
	if !p.limited() {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return max(0, p.free.Sub(p.now()))
}

// wait blocks until the next flush may start, or ctx is done.
func (p *pacer) wait(ctx context.Context) {
	if d := p.delay(); d > 0 {
		sleep(ctx, d)
	}
}

// charge books rows just written. Time the sink spent idle is not credited
// beyond the present, so a burst after a quiet hour is still paced.
func (p *pacer) charge(rows int64) {
	if !p.limited() || rows <= 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if now := p.now(); p.free.Before(now) {
		p.free = now
	}
	p.free = p.free.Add(time.Duration(rows) * p.perRow)
}

// outage is the datastore failure state the workers of one sink share: one
// backoff, so that N failing workers do not retry N times as often, and one
// outage, logged once when it begins and once when it ends.
type outage struct {
	mu     sync.Mutex
	retry  backoff
	downAt time.Time // when the current outage began; zero when up
	naks0  int64     // Stats.Naks when it began
}

// failed returns the delay before the next retry and whether this failure
// begins an outage; naks is the sink's nak count before this failure.
func (o *outage) failed(naks int64) (d time.Duration, began bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	d = o.retry.delay()
	if o.downAt.IsZero() {
		o.downAt, o.naks0 = time.Now(), naks
		return d, true
	}
	return d, false
}

// recovered resets the backoff after a successful write. When an outage
// was in progress it returns how long it lasted and the naks since it
// began; ok is false otherwise.
func (o *outage) recovered(naks int64) (lasted time.Duration, naksDuring int64, ok bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.retry.reset()
	if o.downAt.IsZero() {
		return 0, 0, false
	}
	lasted, naksDuring = time.Since(o.downAt), naks-o.naks0
	o.downAt = time.Time{}
	return lasted, naksDuring, true
}
