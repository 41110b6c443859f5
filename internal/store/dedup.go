package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/pgcollector/pgcollector/probes"
)

// The stored form of a keyed probe (probes.Probe.Key; docs/storage.md).
// Its table has one column more than the probe's stored columns,
// SampleKind, which the fetcher never sends (so it is NULL in every row it
// collected) and the sink sets in the rows it adds:
//
//   - KindKeyframe, a marker row (every probe column NULL) at a run stored
//     in full that starts a chain;
//   - KindDelta, a marker row at a run of the chain that stored only the
//     rows that changed since the chain's previous run;
//   - KindTombstone, a row with only the key columns set: the object was in
//     the chain's previous run and is not in this one.
//
// A run time without a marker row is a full run outside any chain (dedup
// off, a batch older than the chain, a batch split in parts, data from
// before dedup existed): its rows are the whole run, as before.
const (
	SampleKind    = "sample_kind"
	KindKeyframe  = "k"
	KindDelta     = "d"
	KindTombstone = "t"
)

// sampleKindColumn is the column SampleKind as the catalogue would declare it.
var sampleKindColumn = probes.Column{Name: SampleKind, Type: `"char"`}

// tableColumns returns the columns metrics.<probe> has: the stored columns,
// and SampleKind for a keyed probe.
func storedTableColumns(p probes.Probe) []probes.Column {
	cols := p.StoredColumns()
	if len(p.Key) > 0 {
		cols = append(cols, sampleKindColumn)
	}
	return cols
}

// AtFunction and SeriesFunction name the reading functions of a keyed
// probe, metrics.<probe>_at and metrics.<probe>_series.
func AtFunction(probe string) string { return pgx.Identifier{Schema, probe + "_at"}.Sanitize() }

// SeriesFunction is the function returning every run of a window.
func SeriesFunction(probe string) string { return pgx.Identifier{Schema, probe + "_series"}.Sanitize() }

// syncDedup creates what a keyed probe's stored form needs beyond its
// columns: an index of the marker rows, which the reading functions look
// up, and the reading functions themselves, made from the table's columns
// in their physical order (a table created by an older build has its
// later columns at the end).
func syncDedup(ctx context.Context, tx pgx.Tx, p probes.Probe) error {
	if len(p.Key) == 0 {
		return nil
	}
	table := Table(p.Name)
	index := p.Name + "_sample_kind_idx"
	var hasIndex bool
	err := tx.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, pgx.Identifier{Schema, index}.Sanitize()).Scan(&hasIndex)
	if err != nil {
		return fmt.Errorf("look up index %s: %w", index, err)
	}
	// Looked up first: even CREATE INDEX IF NOT EXISTS locks the table.
	if !hasIndex {
		if _, err := tx.Exec(ctx, fmt.Sprintf(
			"CREATE INDEX IF NOT EXISTS %s ON %s (connection_id, collected_at) WHERE %s IS NOT NULL",
			pgx.Identifier{index}.Sanitize(), table, SampleKind)); err != nil {
			return fmt.Errorf("create index of markers on %s: %w", table, err)
		}
	}
	rows, err := tx.Query(ctx, `
SELECT a.attname FROM pg_attribute a
WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`, table)
	if err != nil {
		return fmt.Errorf("read columns of %s: %w", table, err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("read columns of %s: %w", table, err)
	}
	for _, sql := range readingFunctions(p, names) {
		if _, err := tx.Exec(ctx, sql); err != nil {
			return fmt.Errorf("create reading functions of %s: %w", table, err)
		}
	}
	return nil
}

// readingFunctions returns the DDL of metrics.<probe>_at and
// metrics.<probe>_series for a keyed probe whose table has columns, in
// order.
//
// <probe>_at(t, lookback, connection) gives, for every connection (and
// database) with a run in (t - lookback, t], the rows of its latest such
// run exactly as a full series would hold them, collected_at being the
// run's time. A full run (no marker, or a keyframe marker) is its own
// rows. A delta run is rebuilt from its chain: the latest row of each
// object among the chain's runs, from the keyframe (always in the same
// weekly partition) to the run, objects whose latest row is a tombstone
// left out. Rows of full runs outside the chain that fall between are not
// part of it: the chain was written against its own previous run only.
func readingFunctions(p probes.Probe, columns []string) []string {
	q := func(s string) string { return pgx.Identifier{s}.Sanitize() }
	table := Table(p.Name)
	group := []string{"connection_id"}
	if p.Scope == probes.ScopeDatabase {
		group = append(group, "database_name")
	}
	on := func(a, b string) string {
		var conds []string
		for _, g := range group {
			conds = append(conds, fmt.Sprintf("%s.%s = %s.%s", a, g, b, g))
		}
		return strings.Join(conds, " AND ")
	}
	cols := func(alias string, g []string) string {
		out := make([]string, len(g))
		for i, c := range g {
			out[i] = alias + "." + q(c)
		}
		return strings.Join(out, ", ")
	}
	keys := cols("m", p.Key)
	out := make([]string, len(columns))
	for i, c := range columns {
		switch c {
		case "collected_at":
			out[i] = "l.run_at"
		case SampleKind:
			out[i] = `NULL::"char"`
		default:
			out[i] = "l." + q(c)
		}
	}
	selectList := strings.Join(out, ", ")
	at := fmt.Sprintf(`CREATE OR REPLACE FUNCTION %[1]s(t timestamptz, lookback interval DEFAULT interval '1 hour',
    connection integer DEFAULT NULL)
RETURNS SETOF %[2]s LANGUAGE sql STABLE AS $pgc$
WITH last AS (
  SELECT DISTINCT ON (%[3]s) %[3]s, m.collected_at AS run_at
  FROM %[2]s m
  WHERE m.collected_at <= t AND m.collected_at > t - lookback AND (connection IS NULL OR m.connection_id = connection)
  ORDER BY %[3]s, m.collected_at DESC
), runs AS (
  SELECT l.*, d.from_at, d.delta IS NOT NULL AS delta
  FROM last l
  LEFT JOIN LATERAL (
    SELECT (SELECT max(k.collected_at) FROM %[2]s k
            WHERE %[4]s AND k.sample_kind = 'k'
              AND k.collected_at <= l.run_at AND k.collected_at >= date_trunc('week', l.run_at, 'UTC')) AS from_at,
           true AS delta
    FROM %[2]s x
    WHERE %[5]s AND x.collected_at = l.run_at AND x.sample_kind = 'd'
    LIMIT 1) d ON true
), chain AS (
  SELECT r.*, c.collected_at AS at
  FROM runs r JOIN %[2]s c ON %[6]s AND c.collected_at BETWEEN r.from_at AND r.run_at AND c.sample_kind IN ('k', 'd')
  WHERE r.delta
), latest AS (
  SELECT DISTINCT ON (%[3]s, %[7]s) c.run_at, m.*
  FROM chain c JOIN %[2]s m ON %[8]s AND m.collected_at = c.at
  WHERE m.sample_kind IS NULL OR m.sample_kind = 't'
  ORDER BY %[3]s, %[7]s, m.collected_at DESC
)
SELECT %[9]s FROM latest l WHERE l.sample_kind IS NULL
UNION ALL
SELECT %[9]s FROM (
  SELECT r.run_at, m.* FROM runs r JOIN %[2]s m ON %[10]s AND m.collected_at = r.run_at
  WHERE NOT r.delta AND m.sample_kind IS NULL) l
$pgc$`,
		AtFunction(p.Name), table, cols("m", group), on("k", "l"), on("x", "l"), on("c", "r"), keys,
		on("m", "c"), selectList, on("m", "r"))
	series := fmt.Sprintf(`CREATE OR REPLACE FUNCTION %[1]s(from_t timestamptz, to_t timestamptz, connection integer DEFAULT NULL)
RETURNS SETOF %[2]s LANGUAGE sql STABLE AS $pgc$
SELECT s.*
FROM (SELECT DISTINCT m.connection_id, m.collected_at FROM %[2]s m
      WHERE m.collected_at BETWEEN from_t AND to_t AND (connection IS NULL OR m.connection_id = connection)) r
CROSS JOIN LATERAL %[3]s(r.collected_at, interval '1 microsecond', r.connection_id) s
$pgc$`, SeriesFunction(p.Name), table, AtFunction(p.Name))
	return []string{at, series}
}
