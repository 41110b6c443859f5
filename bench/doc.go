// Package bench measures pgcollector on the machine it runs on, for `make
// bench`: fleets of simulated monitored servers collected by the real
// `pgcollector run` binary, each probe's cost on a real cluster, the sink
// against a plain COPY of the same rows, a backlog drain after a datastore
// outage, and a naive "query, decode, re-encode, insert" loop as the
// reference for CPU per stored row. Figures that compare are taken in the
// same run, because absolute times drift on shared machines; ratios are
// what the goals are stated in.
//
// The fleet is N connection rows on the wire-protocol simulator
// (bench/fleetsim, run as its own process by StartSim), which answers from
// recordings of real clusters of PostgreSQL 14–18: thousands of servers
// cost the machine a small fraction of what the collector spends on them,
// so the figures describe the collector. The real clusters stay for what
// only a real server shows: what one server's probes cost it
// (MeasureProbeCosts) and the recordings' values. bench/fleet is the
// command that runs it all and writes BENCH.md; the Go benchmarks of the
// hot spots (batch codec, partition routing, COPY feed) live in this
// package's tests.
package bench
