package probes

import (
	"regexp"
	"slices"
	"strings"
)

// vcol is one probe column together with the SQL expression that produces
// it on servers whose server_version_num is in [Since, Until) (0 means
// unbounded). A column renamed between releases is listed twice under its
// newest name, once per expression; on a server that none of a column's
// entries covers it is selected as a typed NULL. Expr defaults to the
// column's name. Declaring a probe's columns and their sources in one list
// keeps its Columns and its per-version Queries from drifting apart.
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
// a possibly qualified column name, possibly cast already. A cast binds
// tighter than any operator, so every other expression is wrapped for the
// cast to apply to the whole of it.
var plainName = regexp.MustCompile(`(?i)^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?(::[a-z_]+)*$`)

// vselect renders the select list for one server version. Every column is
// cast to its stored type, so that the stored type never depends on the
// type the server's version happens to return.
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
