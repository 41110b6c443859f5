// Package bufpool recycles the large byte buffers that carry probe results
// through the collector: the COPY text a fetcher reads from a monitored
// server, and the decoded batch body a sink writes to the datastore. Both
// are allocated once per probe run, are tens of kilobytes to megabytes,
// and are dead a few milliseconds later; allocating them afresh made them
// the largest share of the collector's allocations and so of its garbage
// collection, which runs often under PGC_MEMORY_LIMIT.
//
// Buffers come in size classes from 4 KiB to 16 MiB, four per doubling
// (4, 5, 6, 7, 8 KiB, ...), each a sync.Pool. Get never zeroes: the caller overwrites what it uses. Put
// must be called only once nothing else can read the buffer any more.
package bufpool
