// Package store owns the datastore schema: the numbered migrations of the
// public tables (the contract in docs/design.md plus the collector's own state
// tables), the metrics.<probe> tables synchronised from the probe catalogue
// on every Migrate, and the weekly partitions of those tables.
//
// Locking: Migrate serialises concurrent callers with a transaction-level
// advisory lock on hashtext('pgcollector.migrate'); EnsurePartition takes
// pg_advisory_xact_lock(hashtext('metrics.<partition>')), the key retention
// should take as well before dropping a partition. Partitions are created
// standalone and then attached, which needs only a SHARE UPDATE EXCLUSIVE
// lock on the parent, so dashboards reading metrics.<probe> and sinks
// copying into it are never blocked by a new week starting.
package store
