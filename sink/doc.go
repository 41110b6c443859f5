// Package sink is the stage that moves batches from PGC_BATCHES into the
// datastore. It accumulates messages from the shared durable consumer,
// ensures the weekly partitions they need, and writes each flush in one
// transaction: one COPY per target table fed with the messages' COPY text
// unchanged (rows are never decoded), the ingest ledger that makes every
// batch part count once however often it is delivered, and the per probe
// state (last success, availability, last snapshot hash). Messages are
// acknowledged only after that transaction commits. A datastore that is
// unreachable makes the sink negatively acknowledge with backoff and never
// drop; a message that can never be stored (undecodable, or rejected by the
// datastore as bad data) is terminated, logged and counted, and stays in the
// stream for inspection.
//
// One sink runs PGC_SINK_WORKERS such loops on the shared consumer, and a
// pacer keeps them under PGC_SINK_MAX_ROWS_PER_SECOND, so that the backlog
// of an outage does not flatten the datastore that just came back
// (pace.go). Ingester (ingest.go) offers the same write path without the
// consumer, for `pgcollector replay`.
package sink
