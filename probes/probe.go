package probes

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
)

// Scope says where a probe runs: once per monitored server, or once per
// connectable, non-template database of that server.
type Scope string

// The two scopes of the catalogue.
const (
	ScopeServer   Scope = "server"
	ScopeDatabase Scope = "database"
)

// Column is one stored column of a probe: its name in metrics.<probe> and
// the PostgreSQL type it has there. Every query of the probe casts its
// output to exactly this type, so the stored type never depends on the
// monitored server's version.
type Column struct {
	Name string
	Type string
}

// Versioned is the SQL of a probe for servers whose server_version_num is
// at least MinVersion. The SQL selects exactly the probe's Columns, in
// order, with explicit casts; columns an older server lacks are selected as
// typed NULLs. It takes no parameters, because the fetcher wraps it in
// COPY (...) TO STDOUT.
type Versioned struct {
	MinVersion int
	SQL        string
}

// Probe is one entry of the catalogue. Probes are data: the stages read
// these fields and never special-case a probe by name.
type Probe struct {
	Name        string
	Scope       Scope
	Description string

	// IntervalSeconds and RetentionDays are the defaults seeded into
	// public.probes; the datastore row is what runs.
	IntervalSeconds int
	RetentionDays   int

	// Columns are the probe's own columns. The stored table has
	// connection_id and collected_at (and database_name for
	// database-scoped probes) in front of them.
	Columns []Column

	// Queries are ordered by ascending MinVersion; the fetcher runs the
	// one with the highest MinVersion not above the server's version.
	Queries []Versioned

	// Check, when set, is SQL run in the target database that returns one
	// row with one text column: NULL when the probe can run there, or the
	// reason it cannot (view missing, extension not installed). Absence is
	// recorded as "unavailable", not as an error.
	Check string

	// ChangeTracked probes store a snapshot only when it differs from the
	// last stored one for the same connection and database.
	ChangeTracked bool

	// Key names the columns that identify one object of a per-object probe
	// (a table, an index, a statement) within one run on one connection
	// and database. The sink stores a keyed probe's row only when it
	// differs from the last stored row of the same object, with a full run
	// (keyframe) every PGC_SINK_FULL_EVERY; docs/storage.md describes the
	// stored form and metrics.<probe>_at the reading. The key must be
	// unique within a run: a run with a repeated key is stored in full.
	Key []string

	// ClusterWide marks a database-scoped probe whose source shows the
	// whole cluster (pg_stat_statements): availability is checked per
	// database, but it is collected from one database per server only, so
	// the same rows are not stored once per database.
	ClusterWide bool

	// Snapshot asks for the query to run in a REPEATABLE READ transaction
	// with stats_fetch_consistency = snapshot, so that a probe joining
	// several statistics views reads one consistent picture.
	Snapshot bool

	// ColumnsOf names the relation a probe reads whose columns depend on
	// what is installed in the database rather than on the server version:
	// an extension's view keeps the columns of the extension version
	// installed, which pg_upgrade carries over from an older server. The
	// fetcher reads its columns (ColumnsSQL) once the source is known to be
	// there and runs QueryForColumns; QueryFor is the query that works
	// without knowing them, at a higher cost.
	ColumnsOf string
	adapt     func(has func(string) bool) string

	// Activity, on probes with one row per object (table, index, sequence,
	// function), is an SQL expression over the probe's own columns that
	// ranks the objects by use: a cap on objects per run
	// (PGC_PROBE_MAX_OBJECTS) keeps the highest. Empty: the probe is
	// never capped.
	Activity string

	// RoundTrip probes are timed by the fetcher, which fills
	// response_time_ms and stores a failure row (up = false, error) when
	// the server cannot be reached.
	RoundTrip bool
}

// StoredColumns returns the full column list of metrics.<probe>, in table
// order.
func (p Probe) StoredColumns() []Column {
	cols := []Column{{"connection_id", "integer"}, {"collected_at", "timestamptz"}}
	if p.Scope == ScopeDatabase {
		cols = append(cols, Column{"database_name", "text"})
	}
	return append(cols, p.Columns...)
}

// StoredColumnNames are the names of StoredColumns, in order: the
// Columns of a rows batch.
func (p Probe) StoredColumnNames() []string {
	cols := p.StoredColumns()
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
	}
	return names
}

// QueryFor returns the SQL to run on a server of the given
// server_version_num, and false when no query supports that version.
func (p Probe) QueryFor(serverVersion int) (string, bool) {
	i := sort.Search(len(p.Queries), func(i int) bool { return p.Queries[i].MinVersion > serverVersion })
	if i == 0 {
		return "", false
	}
	return p.Queries[i-1].SQL, true
}

// ColumnsSQL lists the columns of the relation named by $1 (resolved on
// the session's search_path), for QueryForColumns.
const ColumnsSQL = `SELECT attname::text FROM pg_catalog.pg_attribute
WHERE attrelid = pg_catalog.to_regclass($1) AND attnum > 0 AND NOT attisdropped`

// QueryForColumns returns the query for a source (ColumnsOf) with exactly
// the given columns, and false when the probe does not adapt to its
// source's columns.
func (p Probe) QueryForColumns(columns []string) (string, bool) {
	if p.adapt == nil {
		return "", false
	}
	return p.adapt(func(name string) bool { return slices.Contains(columns, name) }), true
}

// MinVersion is the oldest server_version_num any query supports.
func (p Probe) MinVersion() int {
	if len(p.Queries) == 0 {
		return 0
	}
	return p.Queries[0].MinVersion
}

// ByName returns the probe of the given name from the registry.
func ByName(name string) (Probe, error) {
	for _, p := range All {
		if p.Name == name {
			return p, nil
		}
	}
	return Probe{}, fmt.Errorf("unknown probe %q", name)
}

// topN matches a row cap that deployments may change: a query writes
// "LIMIT <n> /*top_n*/" and the fetcher replaces n with its configured
// value (PGC_STATEMENTS_TOP_N), so the SQL stays runnable as written.
var topN = regexp.MustCompile(`LIMIT \d+ /\*top_n\*/`)

// WithMaxObjects returns sql keeping only the n objects of highest
// activity, or sql itself when n is 0 or the probe has no Activity. The
// query's columns stay as they are; the rows come out most active first.
func (p Probe) WithMaxObjects(sql string, n int) string {
	if n <= 0 || p.Activity == "" {
		return sql
	}
	return fmt.Sprintf("SELECT o.* FROM (%s) o ORDER BY %s DESC NULLS LAST LIMIT %d", sql, p.Activity, n)
}

// CountObjects returns a query counting the rows sql returns, uncapped:
// what a capped run reports as its total.
func CountObjects(sql string) string { return "SELECT count(*) FROM (" + sql + ") o" }

// WithTopN returns sql with its top_n row cap set to n.
func WithTopN(sql string, n int) string {
	return topN.ReplaceAllString(sql, fmt.Sprintf("LIMIT %d /*top_n*/", n))
}
