// Package bench measures pgcollector on the machine it runs on, for `make
// bench`: a fleet of simulated monitored servers collected by the real
// `pgcollector run` binary, the sink against a plain COPY of the same rows,
// a backlog drain after a datastore outage, and a naive "query, decode,
// re-encode, insert" loop as the reference for CPU per stored row. Figures
// that compare are taken in the same run, because absolute times drift on
// shared machines; ratios are what the goals are stated in.
//
// The fleet is N connection rows spread over a few local clusters (the
// simulated servers share them, so every server sees the other servers'
// sessions in pg_stat_activity). bench/fleet is the command that runs it
// all and writes BENCH.md; the Go benchmarks of the hot spots (batch
// codec, partition routing, COPY feed) live in this package's tests.
package bench
