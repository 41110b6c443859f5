package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// alignedColumnsSQL lists the columns of the relation $1 as column
// definitions in the order that wastes least space on alignment padding:
// fixed-width columns first, widest alignment first (bigint, timestamptz,
// double precision; then integer; then smallint; then boolean), and the
// variable-width ones (text, numeric, jsonb, arrays) last, where their
// short 1-byte headers need no alignment at all. Within a group the
// declared order is kept. In the declared order of pg_stat_all_tables,
// connection_id (4 bytes) before collected_at costs 4 bytes of padding and
// every text before a bigint up to 7 more; this order costs none.
//
// Types, collations, NOT NULL and defaults are the parent's, which is what
// ATTACH PARTITION checks; the order is the only difference.
const alignedColumnsSQL = `
SELECT quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod)
    || CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation
            THEN ' COLLATE ' || quote_ident(cn.nspname) || '.' || quote_ident(co.collname) ELSE '' END
    || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
    || coalesce(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '')
FROM pg_attribute a
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_collation co ON co.oid = a.attcollation
LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attlen < 0, CASE a.attalign WHEN 'd' THEN 0 WHEN 'i' THEN 1 WHEN 's' THEN 2 ELSE 3 END, a.attnum`

// AlignedTableSQL returns a CREATE TABLE statement for a plain table named
// qualified (quoted already) with the columns of parent (quoted already) in
// the order of alignedColumnsSQL. Weekly partitions are created this way
// and then attached: the parent keeps the catalogue's column order, which
// is what SELECT * and COPY without a column list see, while the rows are
// stored in the order that costs no padding. Partitions of older releases,
// created LIKE their parent, stay as they are until retention drops them.
func AlignedTableSQL(ctx context.Context, q interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}, parent, qualified string) (string, error) {
	rows, err := q.Query(ctx, alignedColumnsSQL, parent)
	if err != nil {
		return "", fmt.Errorf("read columns of %s: %w", parent, err)
	}
	defs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return "", fmt.Errorf("read columns of %s: %w", parent, err)
	}
	if len(defs) == 0 {
		return "", fmt.Errorf("%s has no columns", parent)
	}
	return fmt.Sprintf("CREATE TABLE %s (\n    %s\n)", qualified, strings.Join(defs, ",\n    ")), nil
}
