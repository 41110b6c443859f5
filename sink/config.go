package sink

import (
	"errors"
	"fmt"
	"time"

	"github.com/pgcollector/pgcollector/bus"
	"github.com/pgcollector/pgcollector/internal/partition"
)

// MinFullEvery is the shortest PGC_SINK_FULL_EVERY the sink accepts.
const MinFullEvery = time.Minute

// Config tunes the sink. cmd loads it under the PGC prefix, so the
// variables are PGC_SINK_FLUSH_BYTES and so on.
type Config struct {
	// FlushBytes ends accumulation once this much batch data is pending:
	// COPY is several times faster per row with thousands of rows per
	// statement than with a hundred (docs/design.md, "Measured").
	FlushBytes bus.ByteSize `envconfig:"SINK_FLUSH_BYTES" default:"8MiB" desc:"pending batch bytes that trigger a flush"`
	// FlushInterval bounds how long a batch waits for others to share its
	// transaction.
	FlushInterval time.Duration `envconfig:"SINK_FLUSH_INTERVAL" default:"250ms" desc:"longest wait before a flush"`
	// MaxBackoff caps the delay between retries while the datastore fails.
	MaxBackoff time.Duration `envconfig:"SINK_MAX_BACKOFF" default:"30s" desc:"cap of the retry delay while the datastore is unreachable"`
	// LedgerRetention is how long ingest ledger rows are kept. It must
	// exceed the replay window of PGC_BATCHES: a batch redelivered after its
	// ledger row is gone would be stored twice.
	LedgerRetention time.Duration `envconfig:"SINK_LEDGER_RETENTION" default:"168h" desc:"how long batch ids are remembered for deduplication; must exceed PGC_REPLAY_WINDOW"`
	// Workers and MaxRowsPerSecond pace the sink (pace.go), above all the
	// drain of a backlog after a datastore outage.
	Workers          int     `envconfig:"SINK_WORKERS" default:"2" desc:"flushes one sink runs in parallel, each on its own datastore connection"`
	MaxRowsPerSecond float64 `envconfig:"SINK_MAX_ROWS_PER_SECOND" default:"0" desc:"rows per second one sink writes at most, over all its workers (0: unlimited)"`
	// Dedup and FullEvery shape the stored form of keyed probes
	// (probes.Probe.Key, dedup.go): a row equal to the last stored row of
	// its object is not stored again, and a run is stored in full at least
	// every FullEvery, and as the first run of every weekly partition.
	Dedup     bool          `envconfig:"SINK_DEDUP" default:"true" desc:"store a per-object row only when it changed since the object's last stored row (docs/storage.md)"`
	FullEvery time.Duration `envconfig:"SINK_FULL_EVERY" default:"1h" desc:"with PGC_SINK_DEDUP, store a run of each connection and probe in full at least this often"`
	// DedupCacheBytes bounds the memory the sink keeps of chain states
	// (dedup_cache.go); a state not kept is read from dedup_state.
	DedupCacheBytes bus.ByteSize `envconfig:"SINK_DEDUP_CACHE_BYTES" default:"8MiB" desc:"with PGC_SINK_DEDUP, memory for the objects' last stored hashes; beyond it they are read from the datastore, and a cache that finds under 10 % of them pauses itself (0: always read)"`
	// ReplayWindow is the bus's replay window (bus.Config.ReplayWindow),
	// set by cmd so that New can check LedgerRetention against it. Zero
	// skips the check.
	ReplayWindow time.Duration `ignored:"true"`
}

// minBackoff is the first retry delay after a datastore failure.
const minBackoff = 500 * time.Millisecond

// Validate checks the configuration; each error names its variable.
func (c Config) Validate() error {
	var errs []error
	bad := func(variable, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", variable, fmt.Sprintf(format, args...)))
	}
	if c.FlushBytes < 1 {
		bad("PGC_SINK_FLUSH_BYTES", "must be positive, got %s", c.FlushBytes)
	}
	if c.FlushInterval < time.Millisecond || c.FlushInterval > time.Minute {
		bad("PGC_SINK_FLUSH_INTERVAL", "must be between 1ms and 1m, got %s", c.FlushInterval)
	}
	if c.MaxBackoff < minBackoff {
		bad("PGC_SINK_MAX_BACKOFF", "must be at least %s, got %s", minBackoff, c.MaxBackoff)
	}
	if c.LedgerRetention < time.Hour {
		bad("PGC_SINK_LEDGER_RETENTION", "must be at least 1h, got %s", c.LedgerRetention)
	}
	if c.Workers < 1 || c.Workers > maxWorkers {
		bad("PGC_SINK_WORKERS", "must be 1..%d, got %d", maxWorkers, c.Workers)
	}
	if c.MaxRowsPerSecond < 0 {
		bad("PGC_SINK_MAX_ROWS_PER_SECOND", "must not be negative (0 is unlimited), got %g", c.MaxRowsPerSecond)
	}
	if c.FullEvery < MinFullEvery || c.FullEvery > partition.Length {
		bad("PGC_SINK_FULL_EVERY", "must be between %s and %s (a weekly partition starts with a full run anyway), got %s",
			MinFullEvery, partition.Length, c.FullEvery)
	}
	if c.DedupCacheBytes < 0 {
		bad("PGC_SINK_DEDUP_CACHE_BYTES", "must not be negative (0 keeps no cache), got %s", c.DedupCacheBytes)
	}
	if c.ReplayWindow > 0 && c.LedgerRetention <= c.ReplayWindow {
		bad("PGC_SINK_LEDGER_RETENTION", "must exceed the replay window PGC_REPLAY_WINDOW (%s), got %s: "+
			"replayed batches would be stored twice", c.ReplayWindow, c.LedgerRetention)
	}
	return errors.Join(errs...)
}
