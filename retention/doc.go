// Package retention is the stage that keeps the datastore's weekly
// partitions in shape. It consumes the retention ticks on PGC_TIMERS (one
// per period, published by the schedulers) and, on each, drops every
// partition of metrics.<probe> whose upper bound is older than now minus
// that probe's own retention_days — for every row of public.probes,
// disabled probes included — and creates next week's partition of every
// enabled probe ahead of Monday 00:00 UTC, so the sink never waits on DDL
// when a week starts. Only tables whose names internal/partition.Parse
// accepts are touched; the current week's and future partitions never are.
//
// Each partition is dropped in its own short transaction with lock_timeout
// set, and a failure is recorded and skipped, never fatal to the run. Runs
// are idempotent and each is recorded in public.retention_runs; the tick
// is acknowledged only after that record is committed, and negatively
// acknowledged with a delay while the datastore is unreachable.
package retention
