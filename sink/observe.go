package sink

import "time"

// Observer is told what the sink does, for the process's self-metrics.
// The interface lives here so the sink depends on no metrics library; cmd
// hands in obs.Metrics. Methods must be cheap and safe for concurrent use.
type Observer interface {
	// Written reports one committed write: the batch parts and rows it
	// stored and how long the transaction (COPY, ledger, state) took.
	Written(batches, rows int64, took time.Duration)
	// IngestLag reports, per batch of a committed write, the time from
	// its collection to the commit.
	IngestLag(lag time.Duration)
	// Redelivered reports a message delivered more than once.
	Redelivered(consumer string)
	// Poison reports a message terminated because it can never be stored.
	Poison(stage string)
	// Deduplicated reports, per committed write, the rows of keyed probes
	// not stored because they equal their object's last stored row, and
	// the tombstones stored for objects that are gone.
	Deduplicated(skipped, tombstones int64)
	// DedupCache reports, per committed write, the chains whose state
	// the dedup cache held (hits) and those read from the datastore
	// (misses), and what the cache holds after the write.
	DedupCache(hits, misses, bytes, states int64, paused bool)
}

// SetObserver directs the sink's events to o. Call it before Run; nil
// restores the default, which ignores them.
func (s *Sink) SetObserver(o Observer) {
	if o == nil {
		o = nopObserver{}
	}
	s.obs = o
}

type nopObserver struct{}

func (nopObserver) Written(int64, int64, time.Duration)         {}
func (nopObserver) IngestLag(time.Duration)                     {}
func (nopObserver) Redelivered(string)                          {}
func (nopObserver) Poison(string)                               {}
func (nopObserver) Deduplicated(int64, int64)                   {}
func (nopObserver) DedupCache(int64, int64, int64, int64, bool) {}
