package bus

import "time"

// Version is the newest message format version this build reads; it
// reads every older one too. Version 2 added compressed batch bodies
// (header Pgc-Encoding). A writer stamps each message with the oldest
// version that can read it (versionPlain unless the body is compressed),
// so a build from before a format change still reads what it can and
// refuses the rest loudly.
const Version = 2

// versionPlain is the version of jobs, ticks and uncompressed batches,
// which every build reads.
const versionPlain = 1

// Job asks a fetcher to run one probe on one monitored connection for one
// time slot. Its JetStream message id is JobID(), so any number of
// schedulers produce one job per slot.
type Job struct {
	ConnectionID    int64
	Probe           string
	Slot            int64 // floor((unix_time - offset) / interval)
	IntervalSeconds int   // the interval the slot was computed with
	// ScheduledAt is the start of the slot. A job is stale once a whole
	// interval has passed since its slot ended, two intervals after
	// ScheduledAt, unless it is Sole (the fetcher's staleJob).
	ScheduledAt time.Time
	// Sole says the scheduler saw the previous job of the same connection
	// and probe delivered before publishing this one, so no other job of
	// the pair waits in the queue: the fetcher runs it however late (see
	// the fetcher's stale rule). False when that was not known.
	Sole bool
}

// Kind says what a batch carries.
type Kind string

// Batch kinds.
const (
	// KindRows carries rows in PostgreSQL COPY text format.
	KindRows Kind = "rows"
	// KindStatus carries no rows: it reports that the probe could not
	// run (unavailable, or failed) so the sink can record it.
	KindStatus Kind = "status"
)

// Batch is the result of one probe run on one database (or server). Data
// holds rows in COPY text format whose columns are Columns, ready for
// COPY metrics.<probe> (Columns) FROM STDIN.
//
// ID is stable for a (connection, probe, slot, database): a job that is
// redelivered and run again produces a batch with the same ID, which is how
// the sink stores each sample once. A result too large for one message is
// split into Parts messages sharing ID and CollectedAt, numbered by Part
// from 0.
type Batch struct {
	ID           string
	Kind         Kind
	ConnectionID int64
	Probe        string
	Database     string // empty for server-scoped probes
	CollectedAt  time.Time
	Part         int
	Parts        int
	Rows         int // rows in Data: in a split batch, this part's rows
	Columns      []string
	// Hash is the order-independent digest of the rows without their
	// connection_id, collected_at and database_name, set for change-tracked
	// probes so the sink can skip a snapshot equal to the last stored one.
	Hash string
	// Status fields, for KindStatus: Unavailable is true when the probe's
	// source is absent (a view or extension), false when it failed.
	Unavailable bool
	Reason      string
	// ConnectionError marks Reason as a failure of the whole connection
	// (unreachable, login, TLS), not of this probe: the sink records it
	// in connections.connection_error. A rows batch clears that column.
	ConnectionError bool
	Data            []byte
}

// Tick is a timer message, such as the daily retention tick. Its message id
// is Name + "." + Period, so one tick is stored per period however many
// schedulers publish it.
type Tick struct {
	Name   string
	Period string // e.g. the UTC date 2006-01-02 or a period start
	At     time.Time
}
