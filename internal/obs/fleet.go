package obs

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Querier is the part of a pgx pool or connection the reports need.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Fleet is the state of every monitored connection and probe, as the
// datastore records it: the fleet grid of the page and `pgcollector status`.
type Fleet struct {
	GeneratedAt  time.Time          `json:"generated_at"`
	Healthy      bool               `json:"healthy"`
	Problems     []string           `json:"problems"`
	Connections  []ConnectionStatus `json:"connections"`
	Probes       []ProbeInfo        `json:"probes"`
	RecentErrors []ErrorEntry       `json:"recent_errors"`
}

// ProbeInfo is one row of public.probes.
type ProbeInfo struct {
	Name            string `json:"name"`
	Scope           string `json:"scope"`
	IntervalSeconds int    `json:"interval_seconds"`
	Enabled         bool   `json:"enabled"`

	updatedAt time.Time
}

// ConnectionStatus is one monitored server and its probes.
type ConnectionStatus struct {
	ID              int64  `json:"id"`
	Name            string `json:"name"`
	Host            string `json:"host"`
	Port            int    `json:"port"`
	Database        string `json:"database"`
	Monitored       bool   `json:"monitored"`
	ConnectionError string `json:"connection_error,omitempty"`
	// State is the worst state of its probes (or not_monitored).
	State string `json:"state"`
	// Up is the last pg_connectivity sample: did the server answer?
	Up          *bool      `json:"up,omitempty"`
	UpCheckedAt *time.Time `json:"up_checked_at,omitempty"`
	UpError     string     `json:"up_error,omitempty"`
	// Availability24h is the share of pg_connectivity samples of the last
	// 24 hours in which the server answered.
	Availability24h *float64      `json:"availability_24h,omitempty"`
	Probes          []ProbeStatus `json:"probes"`

	createdAt time.Time
}

// ProbeStatus is one probe on one connection: the worst of its databases.
type ProbeStatus struct {
	Probe           string           `json:"probe"`
	IntervalSeconds int              `json:"interval_seconds"`
	Enabled         bool             `json:"enabled"`
	State           string           `json:"state"`
	LastSuccess     *time.Time       `json:"last_success,omitempty"`
	LagSeconds      *float64         `json:"lag_seconds,omitempty"`
	LagIntervals    *float64         `json:"lag_intervals,omitempty"`
	LastError       string           `json:"last_error,omitempty"`
	LastErrorAt     *time.Time       `json:"last_error_at,omitempty"`
	Available       *bool            `json:"available,omitempty"`
	Reason          string           `json:"reason,omitempty"`
	Databases       []DatabaseStatus `json:"databases,omitempty"`
}

// DatabaseStatus is one database of a database-scoped probe. Database ""
// is the server (a server-scoped probe, or a database-scoped one that
// could not list the databases).
type DatabaseStatus struct {
	Database    string     `json:"database"`
	State       string     `json:"state"`
	LastSuccess *time.Time `json:"last_success,omitempty"`
	LagSeconds  *float64   `json:"lag_seconds,omitempty"`
	LastError   string     `json:"last_error,omitempty"`
	LastErrorAt *time.Time `json:"last_error_at,omitempty"`
	Available   *bool      `json:"available,omitempty"`
	Reason      string     `json:"reason,omitempty"`
}

// ErrorEntry is a probe error recorded in the last 24 hours.
type ErrorEntry struct {
	Connection string    `json:"connection"`
	Probe      string    `json:"probe"`
	Database   string    `json:"database"`
	At         time.Time `json:"at"`
	Error      string    `json:"error"`
	// Current is true while no success followed the error.
	Current bool `json:"current"`
}

// LoadFleet reads the fleet's state from the datastore and judges it at
// now. It reads only collector tables, a handful of small queries.
func LoadFleet(ctx context.Context, q Querier, now time.Time) (*Fleet, error) {
	conns, err := loadConnections(ctx, q)
	if err != nil {
		return nil, err
	}
	probes, err := loadProbes(ctx, q)
	if err != nil {
		return nil, err
	}
	states, err := loadStates(ctx, q)
	if err != nil {
		return nil, err
	}
	if err := loadConnectivity(ctx, q, conns); err != nil {
		return nil, err
	}
	f := &Fleet{GeneratedAt: now.UTC(), Probes: probes, Problems: []string{}, RecentErrors: []ErrorEntry{}}
	for _, c := range conns {
		c.Probes = []ProbeStatus{}
		c.State = StateNotMonitored
		if c.Monitored {
			c.State = StateOK
			for _, p := range probes {
				ps := judgeProbe(c, p, states[stateKey{c.ID, p.Name}], now)
				c.State = worse(c.State, ps.State)
				c.Probes = append(c.Probes, ps)
			}
		}
		f.Connections = append(f.Connections, *c)
		f.RecentErrors = append(f.RecentErrors, recentErrors(c, states, now)...)
	}
	if f.Connections == nil {
		f.Connections = []ConnectionStatus{}
	}
	sort.Slice(f.RecentErrors, func(i, j int) bool { return f.RecentErrors[i].At.After(f.RecentErrors[j].At) })
	if len(f.RecentErrors) > 50 {
		f.RecentErrors = f.RecentErrors[:50]
	}
	f.Problems = problems(f, now)
	f.Healthy = len(f.Problems) == 0
	return f, nil
}

// judgeProbe aggregates the rows of one probe on one connection.
func judgeProbe(c *ConnectionStatus, p ProbeInfo, rows []stateRow, now time.Time) ProbeStatus {
	iv := time.Duration(p.IntervalSeconds) * time.Second
	ps := ProbeStatus{Probe: p.Name, IntervalSeconds: p.IntervalSeconds, Enabled: p.Enabled}
	if !p.Enabled {
		ps.State = StateDisabled
		return ps
	}
	rows = current(rows, iv)
	if len(rows) == 0 {
		ps.State = neverState(maxTime(c.createdAt, p.updatedAt), iv, now)
		return ps
	}
	ps.State = StateUnavailable
	allUnavailable := true
	for _, r := range rows {
		ds := DatabaseStatus{Database: r.Database, State: classify(r, iv, now), LastSuccess: r.LastSuccess,
			LastError: r.LastError, LastErrorAt: r.LastErrorAt, Available: r.Available, Reason: r.Reason}
		if r.LastSuccess != nil {
			ds.LagSeconds = ptr(now.Sub(*r.LastSuccess).Seconds())
			// The probe's lag is its most behind database's.
			if ps.LastSuccess == nil || r.LastSuccess.Before(*ps.LastSuccess) {
				ps.LastSuccess = r.LastSuccess
			}
		}
		if r.LastErrorAt != nil && (ps.LastErrorAt == nil || r.LastErrorAt.After(*ps.LastErrorAt)) {
			ps.LastError, ps.LastErrorAt = r.LastError, r.LastErrorAt
		}
		if ds.State == StateUnavailable {
			ps.Reason = r.Reason
		} else {
			allUnavailable = false
			ps.State = worse(ps.State, ds.State)
		}
		ps.Databases = append(ps.Databases, ds)
	}
	if allUnavailable {
		ps.State, ps.Available = StateUnavailable, ptr(false)
	} else {
		ps.Available = ptr(true)
		if ps.State == StateUnavailable {
			ps.State = StateOK
		}
	}
	if ps.LastSuccess != nil {
		lag := now.Sub(*ps.LastSuccess).Seconds()
		ps.LagSeconds, ps.LagIntervals = ptr(lag), ptr(lag/float64(p.IntervalSeconds))
	}
	if len(ps.Databases) == 1 && ps.Databases[0].Database == "" {
		ps.Databases = nil // a server-scoped probe: the probe is the database
	}
	return ps
}

// recentErrors lists the connection's probe errors of the last 24 hours.
func recentErrors(c *ConnectionStatus, states map[stateKey][]stateRow, now time.Time) []ErrorEntry {
	var out []ErrorEntry
	for k, rows := range states {
		if k.conn != c.ID {
			continue
		}
		for _, r := range rows {
			if r.LastErrorAt == nil || now.Sub(*r.LastErrorAt) > 24*time.Hour {
				continue
			}
			out = append(out, ErrorEntry{Connection: c.Name, Probe: k.probe, Database: r.Database, At: *r.LastErrorAt,
				Error: r.LastError, Current: r.LastSuccess == nil || r.LastErrorAt.After(*r.LastSuccess)})
		}
	}
	return out
}

// problems lists, one line each, what makes the fleet unhealthy. Probes
// of a connection failing with the same error (typically: the server is
// down) make one line, not one per probe.
func problems(f *Fleet, now time.Time) []string {
	out := []string{}
	for _, c := range f.Connections {
		if !c.Monitored {
			continue
		}
		switch {
		case c.ConnectionError != "":
			out = append(out, fmt.Sprintf("%s: connection error: %s", c.Name, c.ConnectionError))
		case c.Up != nil && !*c.Up && c.UpCheckedAt != nil && now.Sub(*c.UpCheckedAt) < 10*time.Minute:
			out = append(out, fmt.Sprintf("%s: server did not answer at %s: %s", c.Name,
				c.UpCheckedAt.UTC().Format(time.RFC3339), c.UpError))
		}
		var order []string
		groups := map[string][]ProbeStatus{}
		for _, p := range c.Probes {
			if !Unhealthy(p.State) {
				continue
			}
			k := p.State
			if p.State == StateError {
				k += "\x00" + p.LastError
			}
			if groups[k] == nil {
				order = append(order, k)
			}
			groups[k] = append(groups[k], p)
		}
		for _, k := range order {
			out = append(out, describeProblem(c.Name, groups[k], now))
		}
	}
	return out
}

// describeProblem says what is wrong with one probe, or with several that
// share the state (and, when failing, the error).
func describeProblem(conn string, ps []ProbeStatus, now time.Time) string {
	p := ps[0]
	where := conn + " / " + p.Probe
	if len(ps) > 1 {
		names := make([]string, 0, 4)
		for i, q := range ps {
			if i == 3 {
				names = append(names, "…")
				break
			}
			names = append(names, q.Probe)
		}
		where = fmt.Sprintf("%s / %d probes (%s)", conn, len(ps), strings.Join(names, ", "))
	} else {
		for _, d := range p.Databases {
			if Unhealthy(d.State) && d.Database != "" {
				where += " (" + d.Database + ")"
				break
			}
		}
	}
	iv := time.Duration(p.IntervalSeconds) * time.Second
	switch {
	case p.State == StateError:
		return fmt.Sprintf("%s: failing: %s", where, p.LastError)
	case len(ps) > 1:
		return fmt.Sprintf("%s: overdue: nothing collected for more than two intervals", where)
	case p.LastSuccess == nil:
		return fmt.Sprintf("%s: overdue: never collected (interval %s)", where, iv)
	default:
		return fmt.Sprintf("%s: overdue: last success %s ago, interval %s", where,
			now.Sub(*p.LastSuccess).Round(time.Second), iv)
	}
}

func ptr[T any](v T) *T { return &v }

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
