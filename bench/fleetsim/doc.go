// Package fleetsim is a PostgreSQL wire-protocol server that stands for
// thousands of monitored servers in one process, so that `make bench`
// measures the collector rather than a thousand real clusters sharing its
// two cores.
//
// It answers from recordings of real clusters, never from replies written
// in Go: the first time a (cluster, database, request) is asked for, the
// request is forwarded to a real cluster of that server's major and the
// reply is recorded; later requests are answered from the recording. The
// second forward, at least RecheckAfter later, records the reply again and
// marks the integer fields that changed between the two as counters; from
// then on they advance at the rate they were seen to advance, so that every
// run stores different rows where a real server's would differ. A request
// is the exact bytes of the frontend messages up to Query or Sync, so the
// simple and the extended protocol are both recorded and whatever the
// collector sends is what gets answered.
//
// A simulated server is named by the user of the startup packet: sim-N is
// server N, served from Upstreams[(N-1) % len(Upstreams)]. Faults
// (refused login, slow statements, a connection dropped mid-COPY, an error
// for one relation) are chosen per server in Config.Faults.
package fleetsim
