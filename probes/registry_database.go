package probes

import (
	"fmt"
	"slices"
	"strings"
)

// databaseProbes run once per connectable, non-template database, in the
// order of PROBES.md.
var databaseProbes = []Probe{
	pgStatDatabase,
	pgStatDatabaseConflicts,
	pgStatAllTables,
	pgStatAllIndexes,
	pgStatioAllSequences,
	pgStatUserFunctions,
	pgStatStatements,
	pgExtension,
}

// systemStatsProbes read host statistics through the system_stats
// extension, in the order of PROBES.md.
var systemStatsProbes = []Probe{
	pgSysOSInfo,
	pgSysCPUInfo,
	pgSysCPUUsageInfo,
	pgSysMemoryInfo,
	pgSysIOAnalysisInfo,
	pgSysDiskInfo,
	pgSysLoadAvgInfo,
	pgSysProcessInfo,
	pgSysNetworkInfo,
	pgSysCPUMemoryByProcess,
}

// srcCol is one stored column of a probe together with how its source
// provides it: the SQL expression that reads it (empty means the column of
// the same name) and the oldest server_version_num whose source has it (0
// means every supported version). Declaring both in one list keeps a
// probe's Columns and its per-version Queries from drifting apart.
type srcCol struct {
	name, typ, expr string
	since           int
}

// srcColumns returns the stored columns declared by cols.
func srcColumns(cols []srcCol) []Column {
	out := make([]Column, len(cols))
	for i, c := range cols {
		out[i] = Column{Name: c.name, Type: c.typ}
	}
	return out
}

// srcQueries returns one query per server version range with a distinct
// set of available columns, starting at PostgreSQL 14. Each selects every
// column of cols in order, cast to its stored type, and a typed NULL for a
// column its range lacks; tail (FROM ..., WHERE ..., ORDER BY ...) follows
// the select list unchanged.
func srcQueries(cols []srcCol, tail string) []Versioned {
	versions := []int{140000}
	for _, c := range cols {
		if c.since > 140000 && !slices.Contains(versions, c.since) {
			versions = append(versions, c.since)
		}
	}
	slices.Sort(versions)
	out := make([]Versioned, len(versions))
	for i, v := range versions {
		out[i] = Versioned{MinVersion: v, SQL: srcSelect(cols, v) + "\n" + tail}
	}
	return out
}

func srcSelect(cols []srcCol, version int) string {
	items := make([]string, len(cols))
	for i, c := range cols {
		expr := c.expr
		switch {
		case c.since > version:
			expr = "NULL"
		case expr == "":
			expr = c.name
		case strings.ContainsAny(expr, " ('-|>"):
			// A cast binds tighter than any operator: wrap compound
			// expressions so the cast applies to the whole of them.
			expr = "(" + expr + ")"
		}
		items[i] = fmt.Sprintf("  %s::%s AS %s", expr, c.typ, c.name)
	}
	return "SELECT\n" + strings.Join(items, ",\n")
}
