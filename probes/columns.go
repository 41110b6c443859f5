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
//
// Alts, when set, lists the names the column may have in a source whose
// columns depend on what is installed rather than on the server version
// (see Probe.ColumnsOf), newest first: the adapted query reads the first
// one the source has and NULL when it has none, while Expr is what the
// version-only query uses.
type vcol struct {
	Name, Type   string
	Expr         string
	Since, Until int
	Alts         []string
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
	return renderSelect(cols, func(e vcol) (string, bool) {
		if version < e.Since || (e.Until != 0 && version >= e.Until) {
			return "", false
		}
		if e.Expr == "" {
			return e.Name, true
		}
		return e.Expr, true
	})
}

// vselectHaving renders the select list for a source with the columns has
// reports: a column with Alts is read by the first of its names the
// source has, from the source's alias (which alias names), and is NULL
// when the source has none of them.
func vselectHaving(cols []vcol, alias string, has func(string) bool) string {
	return renderSelect(cols, func(e vcol) (string, bool) {
		if len(e.Alts) == 0 {
			if e.Expr == "" {
				return e.Name, true
			}
			return e.Expr, true
		}
		for _, name := range e.Alts {
			if has(name) {
				return alias + "." + name, true
			}
		}
		return "", false
	})
}

// renderSelect renders a select list with every column cast to its stored
// type; pick returns an entry's expression, or false when the entry does
// not apply (the column is then NULL unless a later entry applies).
func renderSelect(cols []vcol, pick func(vcol) (string, bool)) string {
	var items []string
	for _, c := range vcolumns(cols) {
		expr := "NULL"
		for _, e := range cols {
			if e.Name != c.Name {
				continue
			}
			if x, ok := pick(e); ok {
				expr = x
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
