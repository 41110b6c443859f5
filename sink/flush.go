package sink

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/pgcollector/pgcollector/bus"
	"github.com/pgcollector/pgcollector/internal/bufpool"
)

// maxParts bounds the part numbers a batch may claim; the ledger keeps
// them as integer.
const maxParts = 1 << 20

// flush settles every message: written and acknowledged, terminated as
// poison, or negatively acknowledged for a retry. crashed reports that the
// test hook stopped the sink between commit and acknowledgement.
func (s *Sink) flush(ctx context.Context, msgs []jetstream.Msg) (crashed bool, err error) {
	items := s.decode(msgs)
	if len(items) == 0 {
		return false, nil
	}
	s.noteFlushSize(items)
	start := time.Now()
	w, cls, err := s.attempt(ctx, items)
	switch {
	case err == nil:
		s.log.Debug("flushed", "messages", len(items), "batches", w.batches, "rows", w.rows,
			"duplicates", w.duplicates, "took", time.Since(start))
		return s.done(items, w)
	case cls == poison:
		return s.isolate(ctx, items)
	default:
		s.fail(ctx, items, err)
		return false, nil
	}
}

// isolate writes the messages of a flush that failed on bad data one by
// one, so that only the culprits are terminated.
func (s *Sink) isolate(ctx context.Context, items []*item) (bool, error) {
	for i, it := range items {
		one := []*item{it}
		w, cls, err := s.attempt(ctx, one)
		switch {
		case err == nil:
			if crashed, err := s.done(one, w); crashed {
				return true, err
			}
		case cls == poison:
			s.terminate(it.msg, it.b.ID, err, "connection_id", it.b.ConnectionID, "probe", it.b.Probe,
				"database", it.b.Database)
		default:
			s.fail(ctx, items[i:], err)
			return false, nil
		}
	}
	return false, nil
}

// conflictRetries is how often a write lost to a concurrent sink is
// retried at once before it counts as a datastore failure.
const conflictRetries = 3

// attempt runs one write with its own deadline. A race with another sink
// is retried at once. A partition the cache wrongly believed in is created
// again and the write retried once; missing a second time, the rows
// themselves lie outside their batch's week.
func (s *Sink) attempt(ctx context.Context, items []*item) (written, class, error) {
	partitionRetried := false
	for try := 0; ; try++ {
		wctx, cancel := writeContext(ctx)
		start := time.Now()
		w, err := s.write(wctx, items)
		cancel()
		if err == nil {
			s.obs.Written(w.batches, w.rows, time.Since(start))
			return w, 0, nil
		}
		switch cls := classify(err); {
		case cls == conflict && try < conflictRetries:
			s.log.Debug("write lost a race with another sink, retrying", "err", err)
		case cls == conflict:
			return w, transient, err
		case cls == missingPartition && !partitionRetried:
			s.parts.Reset()
			partitionRetried = true
		case cls == missingPartition:
			return w, poison, err
		default:
			return w, cls, err
		}
	}
}

// writeContext bounds a write by flushTimeout, and by shutdownGrace once
// ctx is cancelled: a write is finished, not abandoned halfway, but a
// stuck datastore cannot hold up shutdown.
func writeContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if ctx.Err() != nil {
		return context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), flushTimeout)
	stop := context.AfterFunc(ctx, func() {
		t := time.NewTimer(shutdownGrace)
		defer t.Stop()
		select {
		case <-t.C:
			cancel()
		case <-wctx.Done():
		}
	})
	return wctx, func() { stop(); cancel() }
}

// done acknowledges the messages of a committed write and counts it.
func (s *Sink) done(items []*item, w written) (bool, error) {
	if s.afterCommit != nil {
		if err := s.afterCommit(); err != nil {
			return true, err
		}
	}
	now := time.Now()
	for _, it := range items {
		// A lost ack only means a redelivery, which the ledger skips.
		_ = it.msg.Ack()
		if it.b.Kind == bus.KindRows {
			s.obs.IngestLag(now.Sub(it.b.CollectedAt))
		}
		// The write is over, so nothing reads the decoded body any more.
		// After a failed one it is left to the garbage collector: pgx may
		// return from a broken COPY before its reader has stopped.
		it.release()
	}
	st := &s.stats
	st.Flushes.Add(1)
	st.BatchesStored.Add(w.batches)
	st.RowsStored.Add(w.rows)
	st.StatusesStored.Add(w.statuses)
	st.Duplicates.Add(w.duplicates)
	st.SnapshotsUnchanged.Add(w.unchanged)
	st.RowsUnchanged.Add(w.skipped)
	st.Tombstones.Add(w.tombstones)
	if w.skipped > 0 || w.tombstones > 0 {
		s.obs.Deduplicated(w.skipped, w.tombstones)
	}
	if w.cacheHits > 0 || w.cacheMisses > 0 {
		bytes, states, paused := s.dedup.cache.size()
		s.obs.DedupCache(w.cacheHits, w.cacheMisses, bytes, states, paused)
		if s.cachePaused.Swap(paused) != paused {
			if paused {
				s.log.Info("dedup cache paused: too few chain writes found their state in it; chains are read from dedup_state",
					"cache_bytes", s.cfg.DedupCacheBytes)
			} else {
				s.log.Info("dedup cache in use again")
			}
		}
	}
	s.pace.charge(w.rows)
	if lasted, naks, ok := s.outage.recovered(st.Naks.Load()); ok {
		s.log.Info("datastore writes recovered; draining the backlog", "outage", lasted.Round(time.Millisecond),
			"naks", naks, "workers", s.cfg.Workers, "max_rows_per_second", s.cfg.MaxRowsPerSecond)
	}
	return false, nil
}

// fail hands the messages back for redelivery after a backoff delay and
// waits that delay, so a failing datastore is retried at a falling rate.
func (s *Sink) fail(ctx context.Context, items []*item, err error) {
	d, began := s.outage.failed(s.stats.Naks.Load())
	for _, it := range items {
		if ctx.Err() != nil {
			_ = it.msg.Nak() // shutting down: let another sink have it now
		} else {
			_ = it.msg.NakWithDelay(d)
		}
	}
	if began {
		s.log.Error("datastore write failed; retrying with backoff, no batch is dropped",
			"err", err, "sqlstate", sqlstate(err), "batches", len(items))
	} else {
		s.log.Debug("datastore write failed again", "err", err, "retry_in", d)
	}
	s.stats.Naks.Add(int64(len(items)))
	sleep(ctx, d)
}

// noteFlushSize keeps Stats.LargestFlush: the decoded text one flush
// holds, which PGC_SINK_FLUSH_BYTES bounds.
func (s *Sink) noteFlushSize(items []*item) {
	var n int64
	for _, it := range items {
		n += int64(len(it.b.Data))
	}
	for {
		old := s.stats.LargestFlush.Load()
		if n <= old || s.stats.LargestFlush.CompareAndSwap(old, n) {
			return
		}
	}
}

// decode reads the messages' batches and terminates those that cannot be
// read: retrying them can never help.
func (s *Sink) decode(msgs []jetstream.Msg) []*item {
	items := make([]*item, 0, len(msgs))
	for _, m := range msgs {
		if md, err := m.Metadata(); err == nil && md.NumDelivered > 1 {
			s.obs.Redelivered(bus.ConsumerSink)
		}
		var buf []byte
		b, err := bus.DecodeBatchInto(m.Data(), m.Headers(), func(n int) []byte {
			buf = bufpool.Get(n)
			return buf
		})
		if err == nil {
			err = check(b)
		}
		if err != nil {
			bufpool.Put(buf)
			s.terminate(m, m.Headers().Get(jetstream.MsgIDHeader), fmt.Errorf("undecodable: %w", err))
			continue
		}
		items = append(items, &item{msg: m, b: b, buf: buf})
	}
	return items
}

// check rejects batches the decoder accepts but the sink cannot store.
func check(b bus.Batch) error {
	switch {
	case b.Parts > maxParts:
		return fmt.Errorf("%d parts exceed the limit of %d", b.Parts, maxParts)
	case b.Kind == bus.KindRows && len(b.Columns) == 0 && len(b.Data) > 0:
		return errors.New("rows batch without a column list")
	case b.CollectedAt.IsZero():
		return errors.New("no collection time")
	}
	return nil
}

// terminate stops redelivery of a message that can never be stored. The
// stream keeps it (limits retention) for inspection by its sequence.
func (s *Sink) terminate(m jetstream.Msg, batchID string, reason error, batchAttrs ...any) {
	s.stats.Poison.Add(1)
	s.obs.Poison("sink")
	attrs := append([]any{"batch_id", batchID, "subject", m.Subject(), "sqlstate", sqlstate(reason), "err", reason},
		batchAttrs...)
	if md, err := m.Metadata(); err == nil {
		attrs = append(attrs, "stream_seq", md.Sequence.Stream, "deliveries", md.NumDelivered)
	}
	s.log.Error("terminated poison batch: it stays in "+bus.StreamBatches+" for inspection", attrs...)
	if err := m.TermWithReason(truncate(reason.Error(), 200)); err != nil {
		s.log.Warn("terminate message", "batch_id", batchID, "err", err)
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
