package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// PGC_BATCHES keeps acknowledged batches for the replay window "as space
// allows", and must never lose an unacknowledged one. JetStream cannot say
// that by itself: MaxAge would expire unacknowledged batches during a long
// datastore outage, and MaxBytes with DiscardNew would let acknowledged
// batches fill the buffer and stop collection for good. So the stream has
// neither MaxAge nor DiscardOld, and the publishers trim it: they purge
// only below the sink consumer's ack floor (every batch below it is
// acknowledged), either because it is older than the window or because the
// buffer is full and the oldest acknowledged batches must make room.
// Purging by sequence is idempotent, so processes may trim concurrently.

const (
	trimEvery   = time.Minute
	trimTimeout = 5 * time.Second
	// roomFraction of MaxBytes is freed when the buffer is full, so a full
	// buffer purges now and then rather than before every publish.
	roomFraction = 8
)

type trimmer struct {
	mu     sync.Mutex // one trim at a time in this process
	window time.Duration
	every  time.Duration
	next   time.Time // when trimExpired runs again
	warned bool      // a failing age trim warns once, then logs at debug
}

// trimExpired purges acknowledged batches older than the replay window, at
// most once per trimEvery. It runs inside PublishBatch, so only processes
// that publish batches trim, and only while new batches need the space.
// Failures are logged; a publish never fails because of them.
func (b *Bus) trimExpired(ctx context.Context) {
	t := &b.trim
	if !t.mu.TryLock() {
		return
	}
	defer t.mu.Unlock()
	now := time.Now()
	if now.Before(t.next) {
		return
	}
	t.next = now.Add(t.every)
	ctx, cancel := context.WithTimeout(ctx, trimTimeout)
	defer cancel()
	upTo, err := b.seqAtTime(ctx, now.Add(-t.window))
	if err == nil {
		var n uint64
		if n, err = b.purgeAcked(ctx, upTo); n > 0 {
			b.log.Debug("dropped acknowledged batches past the replay window", "batches", n, "replay_window", t.window)
		}
	}
	switch {
	case err == nil || ctx.Err() != nil:
	case !t.warned:
		t.warned = true
		b.log.Warn("cannot trim the batch buffer by age (the server may not support lookups by time); a full buffer still drops acknowledged batches first", "err", err)
	default:
		b.log.Debug("trim batch buffer by age", "err", err)
	}
}

// makeRoom purges the oldest acknowledged batches of a full buffer and
// reports whether the caller should try again: false means everything
// stored is unacknowledged, so the buffer really is full.
func (b *Bus) makeRoom(ctx context.Context) bool {
	t := &b.trim
	t.mu.Lock()
	defer t.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, trimTimeout)
	defer cancel()
	stream, err := b.js.Stream(ctx, StreamBatches)
	if err != nil {
		b.log.Warn("make room in full batch buffer", "err", err)
		return false
	}
	info := stream.CachedInfo()
	st, maxBytes := info.State, info.Config.MaxBytes
	if maxBytes <= 0 || st.Msgs == 0 {
		return false
	}
	if int64(st.Bytes)+int64(b.msgLimit) <= maxBytes {
		return true // someone else made room meanwhile
	}
	avg := max(1, st.Bytes/st.Msgs)
	count := max(1, uint64(maxBytes/roomFraction)/avg)
	n, err := b.purgeAcked(ctx, st.FirstSeq+count)
	if err != nil {
		b.log.Warn("make room in full batch buffer", "err", err)
		return false
	}
	if n > 0 {
		b.log.Info("batch buffer full: dropped the oldest acknowledged batches to make room",
			"batches", n, "buffer_max_bytes", ByteSize(maxBytes).String())
	}
	return n > 0
}

// purgeAcked purges PGC_BATCHES below upTo, but never at or above the
// sink's ack floor + 1, and returns about how many messages went.
func (b *Bus) purgeAcked(ctx context.Context, upTo uint64) (uint64, error) {
	c, err := b.js.Consumer(ctx, StreamBatches, ConsumerSink)
	if err != nil {
		return 0, fmt.Errorf("read sink ack floor: %w", err)
	}
	upTo = min(upTo, c.CachedInfo().AckFloor.Stream+1)
	stream, err := b.js.Stream(ctx, StreamBatches)
	if err != nil {
		return 0, err
	}
	first := stream.CachedInfo().State.FirstSeq
	if upTo <= first {
		return 0, nil
	}
	if err := stream.Purge(ctx, jetstream.WithPurgeSequence(upTo)); err != nil {
		return 0, fmt.Errorf("purge %s below %d: %w", StreamBatches, upTo, err)
	}
	return upTo - first, nil
}

// seqAtTime returns the sequence of the first batch stored at or after t,
// or MaxUint64 when all are older. The jetstream package has no call for a
// lookup by time, so this is the plain JetStream API request.
func (b *Bus) seqAtTime(ctx context.Context, t time.Time) (uint64, error) {
	req, _ := json.Marshal(struct {
		StartTime time.Time `json:"start_time"`
		NoHeaders bool      `json:"no_hdr"`
	}{t.UTC(), true})
	msg, err := b.nc.RequestWithContext(ctx, "$JS.API.STREAM.MSG.GET."+StreamBatches, req)
	if err != nil {
		return 0, fmt.Errorf("find first batch after %s: %w", t.Format(time.RFC3339), err)
	}
	var resp struct {
		Error   *jetstream.APIError `json:"error"`
		Message *struct {
			Seq uint64 `json:"seq"`
		} `json:"message"`
	}
	if err := json.Unmarshal(msg.Data, &resp); err != nil {
		return 0, fmt.Errorf("find first batch after %s: %w", t.Format(time.RFC3339), err)
	}
	switch {
	case resp.Error != nil && resp.Error.ErrorCode == jetstream.JSErrCodeMessageNotFound:
		return math.MaxUint64, nil
	case resp.Error != nil:
		return 0, fmt.Errorf("find first batch after %s: %w", t.Format(time.RFC3339), resp.Error)
	case resp.Message == nil:
		return 0, errors.New("find first batch: empty answer")
	}
	return resp.Message.Seq, nil
}
