// Package scheduler is the stage that turns the monitored connections and
// probe settings into jobs: one job per (connection, probe, slot) on
// PGC_JOBS, where slot = floor((unix_time - offset) / interval). The
// JetStream message id is derived from the slot, so any number of
// schedulers publish each job once. The per-(connection, probe) offset
// spreads a fleet's work over the interval instead of firing everything on
// the same second.
package scheduler
