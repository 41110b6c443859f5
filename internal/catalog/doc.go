// Package catalog reads and writes the datastore's configuration tables —
// monitored connections and probe settings — and keeps the last-known copy
// of them in memory, so that the scheduler and fetchers keep collecting
// while the datastore is unreachable.
package catalog
