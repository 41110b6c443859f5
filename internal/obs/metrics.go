package obs

import (
	"maps"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/pgcollector/pgcollector/bus"
)

// Namespace prefixes every series this package exports.
const Namespace = "pgcollector"

// Metrics holds the process's self-metrics in a private registry, so that
// nothing registered by a library on the default registry leaks into the
// exposition. It implements the stages' Observer interfaces.
type Metrics struct {
	reg *prometheus.Registry

	probeRuns      *prometheus.CounterVec
	probeDuration  *prometheus.HistogramVec
	rowsCollected  *prometheus.CounterVec
	jobsStale      *prometheus.CounterVec
	objectsCapped  *prometheus.CounterVec
	slotsSkipped   *prometheus.CounterVec
	batches        *prometheus.CounterVec
	connectionUp   *prometheus.GaugeVec
	bufferFull     prometheus.Gauge
	redeliveries   *prometheus.CounterVec
	poison         *prometheus.CounterVec
	samplesDropped prometheus.Counter
	sinkBatches    prometheus.Counter
	sinkRows       prometheus.Counter
	sinkUnchanged  prometheus.Counter
	sinkTombstones prometheus.Counter
	dedupCache     *prometheus.CounterVec
	dedupPaused    prometheus.Gauge
	dedupBytes     prometheus.Gauge
	dedupStates    prometheus.Gauge
	sinkWrite      prometheus.Histogram
	ingestLag      prometheus.Histogram

	mu sync.Mutex
	up map[string]bool // connection_up, readable without a scrape
}

// NewMetrics creates the registry with the Go runtime and process
// collectors and every pgcollector_ series. version labels build_info.
func NewMetrics(version string) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), up: map[string]bool{}}
	f := factory{m.reg}
	m.probeRuns = f.counterVec("probe_runs_total", "Probe runs on one database or server, by probe and result (ok, error, unavailable).", "probe", "result")
	m.probeDuration = f.histogramVec("probe_duration_seconds", "Time a probe's query took on the monitored server.",
		[]float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}, "probe")
	m.rowsCollected = f.counterVec("rows_collected_total", "Rows collected from monitored servers, by probe.", "probe")
	m.jobsStale = f.counterVec("jobs_stale_total", "Jobs dropped because their slot had passed, by probe.", "probe")
	m.objectsCapped = f.counterVec("probe_objects_capped_total", "Objects (tables, indexes, sequences, functions) a per-object probe left out of its runs because of PGC_PROBE_MAX_OBJECTS, by probe.", "probe")
	m.slotsSkipped = f.counterVec("jobs_skipped_total", "Slots the scheduler left without a job because the previous job of the same connection and probe still waited for a fetcher, by probe.", "probe")
	m.batches = f.counterVec("batches_published_total", "Batches acknowledged by JetStream, by probe and kind (rows, status).", "probe", "kind")
	m.connectionUp = f.gaugeVec("connection_up", "1 when the monitored server answered the last attempt to get a session, 0 when it did not.", "connection")
	m.bufferFull = f.gauge("buffer_full", "1 while collection is paused because PGC_BATCHES is full of unacknowledged batches.")
	m.redeliveries = f.counterVec("redeliveries_total", "Messages this process received more than once, by consumer.", "consumer")
	m.poison = f.counterVec("poison_messages_total", "Messages terminated because they can never be handled, by stage.", "stage")
	m.samplesDropped = f.counter("samples_dropped_total", "Collected results that will never be stored. Must stay 0: there is no drop path by design.")
	m.sinkBatches = f.counter("sink_batches_total", "Batch parts whose rows the sink committed to the datastore.")
	m.sinkRows = f.counter("sink_rows_total", "Rows the sink committed to the datastore with COPY.")
	m.sinkUnchanged = f.counter("sink_rows_unchanged_total", "Rows of per-object probes the sink did not store because they equal the last stored row of their object (PGC_SINK_DEDUP).")
	m.sinkTombstones = f.counter("sink_tombstones_total", "Objects of per-object probes the sink recorded as gone since the last stored run (PGC_SINK_DEDUP).")
	m.dedupCache = f.counterVec("sink_dedup_cache_total", "Chains of per-object probes whose last state a sink write found in memory (hit) or read from public.dedup_state (miss) (PGC_SINK_DEDUP_CACHE_BYTES).", "result")
	m.dedupBytes = f.gauge("sink_dedup_cache_bytes", "Memory the sink's dedup cache holds, at most PGC_SINK_DEDUP_CACHE_BYTES.")
	m.dedupPaused = f.gauge("sink_dedup_cache_paused", "1 while the sink's dedup cache holds nothing because too few chain writes found their state in it (see docs/operations.md).")
	m.dedupStates = f.gauge("sink_dedup_cache_states", "Chains (connection, database, probe) whose state the sink's dedup cache holds.")
	m.sinkWrite = f.histogram("sink_copy_duration_seconds", "Time of one committed sink write: COPY of every table plus ledger and state, in one transaction.",
		[]float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 45})
	m.ingestLag = f.histogram("ingest_lag_seconds", "Time from a batch's collection to the commit of its rows in the datastore.",
		[]float64{.1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600})
	// Series that should read 0 rather than be absent until the first
	// event: an alert on them must see them from the start.
	for _, stage := range []string{"fetcher", "sink"} {
		m.poison.WithLabelValues(stage)
	}
	for _, consumer := range []string{bus.ConsumerFetcher, bus.ConsumerSink} {
		m.redeliveries.WithLabelValues(consumer)
	}
	info := f.gaugeVec("build_info", "Always 1; the version label says which build runs.", "version")
	info.WithLabelValues(version).Set(1)
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry is where further collectors (the buffer backlog) register.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the exposition of the private registry.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// ProbeRun implements fetcher.Observer.
func (m *Metrics) ProbeRun(probe, result string, took time.Duration, rows int) {
	m.probeRuns.WithLabelValues(probe, result).Inc()
	if took > 0 {
		m.probeDuration.WithLabelValues(probe).Observe(took.Seconds())
	}
	if rows > 0 {
		m.rowsCollected.WithLabelValues(probe).Add(float64(rows))
	}
}

// JobStale implements fetcher.Observer.
func (m *Metrics) JobStale(probe string) { m.jobsStale.WithLabelValues(probe).Inc() }

// ObjectsCapped implements fetcher.Observer.
func (m *Metrics) ObjectsCapped(probe string, left int) {
	m.objectsCapped.WithLabelValues(probe).Add(float64(left))
}

// SlotSkipped implements scheduler.Observer.
func (m *Metrics) SlotSkipped(probe string) { m.slotsSkipped.WithLabelValues(probe).Inc() }

// BatchPublished implements fetcher.Observer.
func (m *Metrics) BatchPublished(probe, kind string) { m.batches.WithLabelValues(probe, kind).Inc() }

// ConnectionUp implements fetcher.Observer.
func (m *Metrics) ConnectionUp(connection string, up bool) {
	m.connectionUp.WithLabelValues(connection).Set(b2f(up))
	m.mu.Lock()
	m.up[connection] = up
	m.mu.Unlock()
}

// BufferFull implements fetcher.Observer.
func (m *Metrics) BufferFull(full bool) { m.bufferFull.Set(b2f(full)) }

// Redelivered implements fetcher.Observer and sink.Observer.
func (m *Metrics) Redelivered(consumer string) { m.redeliveries.WithLabelValues(consumer).Inc() }

// Poison implements fetcher.Observer and sink.Observer.
func (m *Metrics) Poison(stage string) { m.poison.WithLabelValues(stage).Inc() }

// SamplesDropped implements fetcher.Observer.
func (m *Metrics) SamplesDropped(n int) { m.samplesDropped.Add(float64(n)) }

// Deduplicated implements sink.Observer.
func (m *Metrics) Deduplicated(skipped, tombstones int64) {
	m.sinkUnchanged.Add(float64(skipped))
	m.sinkTombstones.Add(float64(tombstones))
}

// DedupCache implements sink.Observer.
func (m *Metrics) DedupCache(hits, misses, bytes, states int64, paused bool) {
	m.dedupCache.WithLabelValues("hit").Add(float64(hits))
	m.dedupCache.WithLabelValues("miss").Add(float64(misses))
	m.dedupBytes.Set(float64(bytes))
	m.dedupStates.Set(float64(states))
	m.dedupPaused.Set(b2f(paused))
}

// Written implements sink.Observer.
func (m *Metrics) Written(batches, rows int64, took time.Duration) {
	m.sinkBatches.Add(float64(batches))
	m.sinkRows.Add(float64(rows))
	m.sinkWrite.Observe(took.Seconds())
}

// IngestLag implements sink.Observer.
func (m *Metrics) IngestLag(lag time.Duration) { m.ingestLag.Observe(max(lag, 0).Seconds()) }

// ConnectionsUp returns the last known up state per connection name, as
// this process's fetcher saw it.
func (m *Metrics) ConnectionsUp() map[string]bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.up)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
