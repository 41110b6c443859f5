package sink

import (
	"errors"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// class says what to do about a failed write.
type class int

const (
	// transient failures go away by themselves: the datastore is down,
	// restarting, overloaded, or lost a race. Retry everything, drop nothing.
	transient class = iota
	// poison means some message of the write can never be stored: bad
	// data, or a table or column the datastore does not have.
	poison
	// missingPartition means a partition the cache believed in is gone
	// (retention dropped an old week): ensure it again and retry at once.
	missingPartition
	// conflict is a race with another sink: a ledger row it committed
	// meanwhile, a deadlock or a serialization failure. Retry at once; the
	// retry reads the other sink's ledger rows and skips its batches.
	conflict
)

// classify decides between retrying and terminating. Anything it does not
// recognise is transient: a wrong guess there costs retries, while a wrong
// guess the other way loses data.
func classify(err error) class {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		// Network errors, timeouts, a closed pool, a cancelled context:
		// the datastore was not reached or did not answer.
		return transient
	}
	code := pgErr.Code
	switch {
	case code == "23514" && strings.HasPrefix(pgErr.Message, "no partition of relation"):
		return missingPartition
	case code == "23505", code == "40001", code == "40P01":
		// A unique violation can only come from the ledger (the state
		// tables are upserted): another sink stored the same batch.
		return conflict
	case code == "23503":
		// A foreign key violation means a connection was removed while its
		// state was written; the retry finds it gone and writes no state.
		return conflict
	case strings.HasPrefix(code, "22"), strings.HasPrefix(code, "23"):
		// Data exceptions and integrity violations: the message's rows do
		// not fit its table.
		return poison
	case code == "42501":
		// Insufficient privilege is the datastore's configuration, not
		// the message's fault.
		return transient
	case code == "42P01":
		// A missing metrics table is the message's fault (a probe this
		// datastore was not migrated for); a missing collector table is a
		// datastore that was never migrated, and terminating every
		// message because of it would drop them all.
		if strings.Contains(pgErr.Message, `"metrics.`) {
			return poison
		}
		return transient
	case strings.HasPrefix(code, "42"):
		// Undefined column, datatype mismatch and the like in the COPY
		// built from the message's column list.
		return poison
	default:
		// Classes 08 connection, 40 serialization and deadlock, 53
		// insufficient resources, 55 lock not available, 57 operator
		// intervention (admin shutdown, statement timeout), 58 system
		// error, XX internal: all retried.
		return transient
	}
}

// sqlstate returns the SQLSTATE of err, or "" when it has none.
func sqlstate(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

// backoff is the capped exponential delay between retries of a failing
// datastore, with jitter so that several sinks do not retry in lockstep.
type backoff struct {
	min, max time.Duration
	next     time.Duration
}

// delay returns the delay for the current failure and doubles the next.
func (b *backoff) delay() time.Duration {
	if b.next < b.min {
		b.next = b.min
	}
	d := b.next
	b.next = min(2*b.next, b.max)
	// Full jitter over the upper half keeps the growth while spreading
	// the retries of several sinks.
	return d/2 + rand.N(d/2+1)
}

// reset forgets past failures after a success.
func (b *backoff) reset() { b.next = 0 }
