// Package partition is the one definition of the datastore's weekly
// partitions, shared by the sink (which creates them) and retention (which
// drops them): a partition of metrics.<probe> covers Monday 00:00 UTC up to
// the next Monday 00:00 UTC and is named <probe>_YYYYMMDD after its Monday.
// Everything here is pure: no clock, no database.
package partition
