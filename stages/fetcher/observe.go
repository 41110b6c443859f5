package fetcher

import "time"

// Probe run results, as Observer.ProbeRun reports them.
const (
	ResultOK          = "ok"
	ResultError       = "error"
	ResultUnavailable = "unavailable"
)

// Observer is told what the fetcher does, for the process's self-metrics.
// The interface lives here, not in the metrics package, so the stage
// depends on no metrics library; cmd hands in obs.Metrics. Methods must be
// cheap and safe for concurrent use: they run on the probe path.
type Observer interface {
	// ProbeRun reports one run of a probe on one database (or server):
	// result is ResultOK, ResultError or ResultUnavailable; took is zero
	// when the probe did not execute.
	ProbeRun(probe, result string, took time.Duration, rows int)
	// ObjectsCapped reports a run of a per-object probe that left out
	// left objects of the least activity (PGC_PROBE_MAX_OBJECTS).
	ObjectsCapped(probe string, left int)
	// JobStale reports a job dropped because its slot had passed.
	JobStale(probe string)
	// BatchPublished reports a batch acknowledged by JetStream; kind is
	// the bus.Kind.
	BatchPublished(probe, kind string)
	// ConnectionUp reports whether a monitored server answered.
	ConnectionUp(connection string, up bool)
	// BufferFull reports that collection paused (true) or resumed (false)
	// because PGC_BATCHES was full of unacknowledged batches.
	BufferFull(full bool)
	// Redelivered reports a message delivered more than once.
	Redelivered(consumer string)
	// Poison reports a message terminated because it can never be handled.
	Poison(stage string)
	// SamplesDropped reports collected results that will never be stored.
	// Nothing should ever call it with n > 0 in a healthy collector: it is
	// the alarm for a path that loses data.
	SamplesDropped(n int)
}

// SetObserver directs the fetcher's events to o. Call it before Run; nil
// restores the default, which ignores them.
func (f *Fetcher) SetObserver(o Observer) {
	if o == nil {
		o = nopObserver{}
	}
	f.obs = o
}

type nopObserver struct{}

func (nopObserver) ProbeRun(string, string, time.Duration, int) {}
func (nopObserver) ObjectsCapped(string, int)                   {}
func (nopObserver) JobStale(string)                             {}
func (nopObserver) BatchPublished(string, string)               {}
func (nopObserver) ConnectionUp(string, bool)                   {}
func (nopObserver) BufferFull(bool)                             {}
func (nopObserver) Redelivered(string)                          {}
func (nopObserver) Poison(string)                               {}
func (nopObserver) SamplesDropped(int)                          {}
