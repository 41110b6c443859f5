// Package scheduler is the stage that turns the monitored connections and
// probe settings into jobs: one job per (connection, probe, slot) on
// PGC_JOBS, where slot = floor((unix_time - offset) / interval). The
// JetStream message id is derived from the slot, so any number of
// schedulers publish each job once. The per-(connection, probe) offset
// spreads a fleet's work over the interval instead of firing everything on
// the same second. A pair keeps at most one job waiting for the fetchers:
// while it waits, the pair's next slots are skipped (behind.go), so that
// under overload every pair is served in turn instead of the most
// frequent probes going stale behind the others.
package scheduler
