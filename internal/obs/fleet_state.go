package obs

import (
	"time"
)

// Probe states, from best to worst. Error and overdue make a fleet
// unhealthy; the others are information.
const (
	StateOK           = "ok"            // last success within interval + slack
	StateUnavailable  = "unavailable"   // the probe's source does not exist there (view, extension)
	StateDisabled     = "disabled"      // the probe is switched off
	StateNotMonitored = "not_monitored" // the connection is switched off
	StatePending      = "pending"       // never ran yet, and not yet due
	StateLate         = "late"          // last success more than one interval (+ slack) ago
	StateError        = "error"         // the last run failed
	StateOverdue      = "overdue"       // nothing happened for more than two intervals (+ slack)
)

// slack absorbs the pipeline's own delay (scheduling tick, sink flush)
// before a probe counts as late.
const slack = 15 * time.Second

var stateRank = map[string]int{
	StateDisabled: -2, StateNotMonitored: -2, StateUnavailable: -1,
	StateOK: 0, StatePending: 1, StateLate: 2, StateError: 3, StateOverdue: 4,
}

// Unhealthy says whether a state needs an operator.
func Unhealthy(state string) bool { return state == StateError || state == StateOverdue }

// worse returns the worse of two states.
func worse(a, b string) string {
	if stateRank[b] > stateRank[a] {
		return b
	}
	return a
}

// stateRow is what the datastore holds for one connection, database and
// probe: public.probe_state joined to public.probe_availability.
type stateRow struct {
	Database    string
	LastSuccess *time.Time
	LastError   string
	LastErrorAt *time.Time
	Available   *bool
	Reason      string
	LastChecked *time.Time
}

// activity is the last time anything was recorded for the row: a
// success, an error or an availability check.
func (r stateRow) activity() time.Time {
	var t time.Time
	for _, p := range []*time.Time{r.LastSuccess, r.LastErrorAt, r.LastChecked} {
		if p != nil && p.After(t) {
			t = *p
		}
	}
	return t
}

// classify decides the state of one row at now for a probe run every
// interval.
func classify(r stateRow, interval time.Duration, now time.Time) string {
	if r.Available != nil && !*r.Available &&
		(r.LastSuccess == nil || (r.LastChecked != nil && !r.LastChecked.Before(*r.LastSuccess))) {
		return StateUnavailable
	}
	last := r.activity()
	switch {
	case last.IsZero():
		return StatePending
	case now.Sub(last) > 2*interval+slack:
		return StateOverdue
	case r.LastErrorAt != nil && (r.LastSuccess == nil || r.LastErrorAt.After(*r.LastSuccess)):
		return StateError
	case r.LastSuccess == nil:
		return StatePending
	case now.Sub(*r.LastSuccess) > interval+slack:
		return StateLate
	}
	return StateOK
}

// current drops the rows of databases the probe no longer runs on (the
// database was dropped or became unconnectable): nothing was recorded for
// them for two intervals while other databases of the same probe were
// served. Without this, a dropped database would be overdue forever.
func current(rows []stateRow, interval time.Duration) []stateRow {
	var newest time.Time
	for _, r := range rows {
		if a := r.activity(); a.After(newest) {
			newest = a
		}
	}
	out := rows[:0:0]
	for _, r := range rows {
		a := r.activity()
		if !a.IsZero() && newest.Sub(a) > 2*interval+slack && !(r.Available != nil && !*r.Available) {
			continue
		}
		out = append(out, r)
	}
	return out
}

// neverState is the state of an enabled probe with no rows at all on a
// monitored connection: pending until it has had two intervals to run
// since the connection or the probe setting appeared, overdue after.
func neverState(since time.Time, interval time.Duration, now time.Time) string {
	if now.Sub(since) > 2*interval+slack {
		return StateOverdue
	}
	return StatePending
}
