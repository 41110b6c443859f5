package probes

import (
	"regexp"
	"slices"
	"strings"
)

// serverProbes run once per monitored server, in the order of PROBES.md.
var serverProbes = []Probe{
	pgStatActivity,
	pgStatReplication,
	pgReplicationSlots,
	pgStatRecoveryPrefetch,
	pgStatSubscription,
	pgStatConnectionSecurity,
	pgStatIO,
	pgStatCheckpointer,
	pgStatWAL,
	pgDatabase,
	pgSettings,
	pgHBAFileRules,
	pgIdentFileMappings,
	pgServerInfo,
	pgNodeRole,
	pgConnectivity,
}

// vcol is one probe column together with the SQL expression that produces
// it on servers whose server_version_num is in [Since, Until) (0 means
// unbounded). A column renamed between releases is listed twice under its
// PostgreSQL 18 name, once per expression; on a server that none of a
// column's entries covers it is selected as a typed NULL. Expr defaults to
// the column's name.
type vcol struct {
	Name, Type   string
	Expr         string
	Since, Until int
}

// vcolumns returns the probe's stored columns: each name once, in order of
// first appearance.
func vcolumns(cols []vcol) []Column {
	var out []Column
	for _, c := range cols {
		if !slices.ContainsFunc(out, func(o Column) bool { return o.Name == c.Name }) {
			out = append(out, Column{c.Name, c.Type})
		}
	}
	return out
}

// vqueries renders one query per server version range in which the column
// expressions or the FROM clause differ. from holds the text after the
// select list (FROM, WHERE, ...) by MinVersion; its first entry sets the
// probe's oldest supported version.
func vqueries(cols []vcol, from ...Versioned) []Versioned {
	breaks := []int{}
	for _, f := range from {
		breaks = append(breaks, f.MinVersion)
	}
	for _, c := range cols {
		breaks = append(breaks, c.Since, c.Until)
	}
	slices.Sort(breaks)
	var out []Versioned
	for _, v := range slices.Compact(breaks) {
		if v < from[0].MinVersion {
			continue
		}
		sql := vselect(cols, v) + "\n" + versionedFor(from, v)
		if len(out) > 0 && out[len(out)-1].SQL == sql {
			continue
		}
		out = append(out, Versioned{MinVersion: v, SQL: sql})
	}
	return out
}

// plainName matches expressions that need no parentheses before a cast:
// a possibly qualified column name, possibly cast already.
var plainName = regexp.MustCompile(`(?i)^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?(::[a-z_]+)*$`)

// vselect renders the select list for one server version.
func vselect(cols []vcol, version int) string {
	var items []string
	for _, c := range vcolumns(cols) {
		expr := "NULL"
		for _, e := range cols {
			if e.Name == c.Name && version >= e.Since && (e.Until == 0 || version < e.Until) {
				expr = e.Expr
				if expr == "" {
					expr = e.Name
				}
				break
			}
		}
		if !plainName.MatchString(expr) {
			expr = "(" + expr + ")"
		}
		items = append(items, expr+"::"+c.Type+" AS "+c.Name)
	}
	return "SELECT " + strings.Join(items, ",\n       ")
}

// versionedFor returns the entry of from with the highest MinVersion not
// above version.
func versionedFor(from []Versioned, version int) string {
	sql := ""
	for _, f := range from {
		if f.MinVersion <= version {
			sql = f.SQL
		}
	}
	return sql
}
