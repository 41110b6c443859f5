// Package fetcher is the stage that runs probes. It takes jobs from the
// shared durable consumer of PGC_JOBS (so N fetchers share the work), drops
// stale ones, borrows a session from the monitored pool manager, runs the
// probe as COPY (...) TO STDOUT — once per server, or once per connectable
// non-template database — and publishes each result as a batch to
// PGC_BATCHES. A job is acknowledged only after JetStream acknowledged
// every batch it produced, so a crash re-runs the job instead of losing it.
package fetcher
