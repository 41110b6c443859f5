package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgcollector/pgcollector/probes"
)

// Schema is the schema of the metrics tables.
const Schema = "metrics"

// Table returns the quoted, schema-qualified name of a probe's table.
func Table(probe string) string { return pgx.Identifier{Schema, probe}.Sanitize() }

// storedColumn is a column of an existing metrics table as the catalog has
// it: its name and whether its type is the type the catalogue declares.
type storedColumn struct {
	name     string
	sameType bool
}

// syncCatalogue makes the metrics tables match the catalogue and seeds
// probes rows for probes that have none. It reads the catalog first and
// issues DDL only for what is missing, because even an ALTER TABLE ... IF
// NOT EXISTS takes an ACCESS EXCLUSIVE lock that would stall the sinks.
// Columns are only ever added: a column the catalogue dropped keeps its
// history, and a changed type is an error for a person to resolve.
func syncCatalogue(ctx context.Context, pool *pgxpool.Pool, catalogue []probes.Probe) error {
	return inLockedTx(ctx, pool, func(tx pgx.Tx) error {
		for _, p := range catalogue {
			if err := syncTable(ctx, tx, p); err != nil {
				return fmt.Errorf("sync metrics table of probe %s: %w", p.Name, err)
			}
		}
		return seedProbes(ctx, tx, catalogue)
	})
}

func syncTable(ctx context.Context, tx pgx.Tx, p probes.Probe) error {
	cols := storedTableColumns(p)
	existing, err := tableColumns(ctx, tx, p.Name, cols)
	if err != nil {
		return err
	}
	table := Table(p.Name)
	if existing == nil {
		defs := make([]string, len(cols))
		for i, c := range cols {
			defs[i] = columnDef(c)
		}
		sql := fmt.Sprintf("CREATE TABLE %s (\n    %s\n) PARTITION BY RANGE (collected_at)",
			table, strings.Join(defs, ",\n    "))
		if _, err := tx.Exec(ctx, sql); err != nil {
			return fmt.Errorf("create %s: %w", table, err)
		}
	} else {
		for _, c := range cols {
			got, ok := existing[c.Name]
			switch {
			case !ok:
				sql := fmt.Sprintf("ALTER TABLE %s ADD COLUMN IF NOT EXISTS %s", table, columnDef(c))
				if _, err := tx.Exec(ctx, sql); err != nil {
					return fmt.Errorf("add column %s to %s: %w", c.Name, table, err)
				}
			case !got.sameType:
				return fmt.Errorf("column %s of %s does not have the catalogue's type %s: "+
					"migrate the data or rename the column, then run migrate again", c.Name, table, c.Type)
			}
		}
	}
	index := p.Name + "_connection_id_collected_at_idx"
	var hasIndex bool
	err = tx.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, pgx.Identifier{Schema, index}.Sanitize()).Scan(&hasIndex)
	if err != nil {
		return fmt.Errorf("look up index %s: %w", index, err)
	}
	if !hasIndex {
		sql := fmt.Sprintf("CREATE INDEX IF NOT EXISTS %s ON %s (connection_id, collected_at DESC)",
			pgx.Identifier{index}.Sanitize(), table)
		if _, err := tx.Exec(ctx, sql); err != nil {
			return fmt.Errorf("create index on %s: %w", table, err)
		}
	}
	return syncDedup(ctx, tx, p)
}

// columnDef is the SQL definition of a stored column. The column types come
// from the compiled-in catalogue, never from users, so they are spliced in
// as written; the names are quoted.
func columnDef(c probes.Column) string {
	def := pgx.Identifier{c.Name}.Sanitize() + " " + c.Type
	if c.Name == "connection_id" || c.Name == "collected_at" {
		def += " NOT NULL"
	}
	return def
}

// tableColumns returns the columns of metrics.<probe>, or nil when the
// table does not exist. Types are compared by OID, so that "timestamptz"
// and "timestamp with time zone" are the same type.
func tableColumns(ctx context.Context, tx pgx.Tx, probe string, want []probes.Column) (map[string]storedColumn, error) {
	names := make([]string, len(want))
	types := make([]string, len(want))
	for i, c := range want {
		names[i], types[i] = c.Name, c.Type
	}
	rows, err := tx.Query(ctx, `
SELECT a.attname, a.atttypid = w.typ::regtype
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN unnest($3::text[], $4::text[]) AS w(name, typ) ON w.name = a.attname
WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('p', 'r')`, Schema, probe, names, types)
	if err != nil {
		return nil, fmt.Errorf("read columns of %s: %w", Table(probe), err)
	}
	found := false
	out := map[string]storedColumn{}
	for rows.Next() {
		var name string
		var same *bool
		if err := rows.Scan(&name, &same); err != nil {
			return nil, fmt.Errorf("read columns of %s: %w", Table(probe), err)
		}
		found = true
		out[name] = storedColumn{name: name, sameType: same != nil && *same}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read columns of %s: %w", Table(probe), err)
	}
	if !found {
		// A table without columns is impossible here (connection_id is
		// always there), so no rows means no table.
		return nil, nil
	}
	return out, nil
}

// seedProbes inserts the catalogue defaults for probes that have no row.
// Existing rows are the user's settings and are never overwritten.
func seedProbes(ctx context.Context, tx pgx.Tx, catalogue []probes.Probe) error {
	batch := &pgx.Batch{}
	for _, p := range catalogue {
		batch.Queue(`
INSERT INTO public.probes (name, scope, collection_interval_seconds, retention_days, description)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (name) DO NOTHING`, p.Name, string(p.Scope), p.IntervalSeconds, p.RetentionDays, p.Description)
	}
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		return fmt.Errorf("seed probes: %w", err)
	}
	return nil
}
