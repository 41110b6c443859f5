// Package bus owns pgcollector's message bus: the embedded NATS server or
// the connection to an external cluster, the stream and consumer
// declarations (streams.go is the one place they are declared), the
// subjects, the message types and their codec. Stages get a *Bus from cmd
// and use only its methods and the jetstream.Consumer values it returns,
// so they cannot tell an in-process server from a remote cluster. bus
// imports no other project package.
//
// # Streams
//
//   - PGC_JOBS (pgc.jobs.<probe>): a work queue of probe runs, deduplicated by
//     JobID over 10 minutes, expired after an hour. Durable consumer "fetcher".
//   - PGC_BATCHES (pgc.batches.<probe>): the durable buffer between fetchers
//     and sinks, bounded by PGC_BUFFER_MAX_BYTES with DiscardNew, deduplicated
//     over 2 minutes (the sink's ledger does the rest). Durable consumer
//     "sink", which never gives a batch up (MaxDeliver -1).
//   - PGC_TIMERS (pgc.timers.<name>): a work queue of ticks deduplicated over
//     25 hours, so one daily tick is stored however many schedulers run.
//     Durable consumer "retention".
//
// An unacknowledged batch is never discarded. When the buffer is full,
// PublishBatch first drops the oldest acknowledged batches (those below the
// sink consumer's ack floor) and, if nothing is acknowledged, returns an
// error wrapping ErrBufferFull: the caller pauses collection, loudly. The
// replay window (PGC_REPLAY_WINDOW) is enforced the same way, on
// acknowledged batches only; see trim.go for why the stream has no MaxAge.
//
// # Batches on the wire
//
// A batch is one message whose body is the COPY text and whose other
// fields are Pgc-* headers (Pgc-V carries the message version). A rows
// body of 1 KiB or more is compressed with s2 when that makes it smaller,
// marked "Pgc-Encoding: s2" and version 2, so that a build from before
// compression refuses it rather than storing compressed bytes; plain
// messages stay version 1. Compression cuts what the stream writes and
// caches several-fold on real probe output. A result larger than a message
// is split at row boundaries, by its uncompressed size, into parts with
// message ids "<ID>#<Part>", each compressed on its own. Parts are
// published with asynchronous pipelining bounded by bytes in flight, and
// PublishBatch returns nil only when every part's acknowledgement has been
// checked.
//
// # What "durable" means
//
// PublishBatch returning nil means JetStream accepted and stored every part.
// With the default store that data has been written to the stream's file,
// so it is in the operating system's page cache and survives the process
// being killed (kill -9, a crash, an OOM kill): the fetcher may ack its job
// then. The embedded server fsyncs every two minutes, so a power loss or
// kernel crash can lose what was accepted since. PGC_NATS_SYNC_ALWAYS=true
// makes the embedded server fsync each message before acknowledging it, so
// accepted batches also survive power loss; it was measured at about 3.2k
// 64 KB messages/s against 9.5k without, affordable at our message rates.
// With an external cluster and PGC_STREAM_REPLICAS=3, a batch is
// acknowledged once a majority of replicas hold it, which survives losing
// any one machine; fsync policy is then the cluster's own setting.
package bus
