package bench

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgcollector/pgcollector/internal/store"
	"github.com/pgcollector/pgcollector/probes"
)

// LayoutCompare is one probe's collected rows stored twice: with the
// columns in the catalogue's order (what partitions created LIKE their
// parent had) and in alignment order (store.AlignedTableSQL, what
// partitions are created with now). TextBytes is what the text columns
// of a row take on average: the most that replacing names by ids could
// save.
type LayoutCompare struct {
	Probe             string
	Rows              int64
	Declared, Aligned int64 // heap bytes of the two copies
	TextBytes         float64
}

// layoutMinRows leaves out probes with too few rows for their heap size
// to mean anything.
const layoutMinRows = 2000

// CompareLayouts copies the rows of every probe that stored at least
// layoutMinRows into the two layouts and reads their heap sizes.
func CompareLayouts(ctx context.Context, pool *pgxpool.Pool, ps []ProbeStorage) ([]LayoutCompare, error) {
	var out []LayoutCompare
	for _, s := range ps {
		if s.Rows < layoutMinRows {
			continue
		}
		p, err := probes.ByName(s.Probe)
		if err != nil {
			return nil, err
		}
		c, err := compareLayout(ctx, pool, p)
		if err != nil {
			return nil, fmt.Errorf("column order of %s: %w", s.Probe, err)
		}
		out = append(out, c)
	}
	return out, nil
}

func compareLayout(ctx context.Context, pool *pgxpool.Pool, p probes.Probe) (LayoutCompare, error) {
	c := LayoutCompare{Probe: p.Name}
	parent := store.Table(p.Name)
	aligned, err := store.AlignedTableSQL(ctx, pool, parent, "layout_aligned")
	if err != nil {
		return c, err
	}
	var texts, names []string
	for _, col := range p.StoredColumns() {
		names = append(names, pgx.Identifier{col.Name}.Sanitize())
		if col.Type == "text" {
			texts = append(texts, "coalesce(pg_column_size(t."+pgx.Identifier{col.Name}.Sanitize()+"), 0)")
		}
	}
	textSum := "0"
	if len(texts) > 0 {
		textSum = strings.Join(texts, " + ")
	}
	stmts := []string{
		"DROP TABLE IF EXISTS layout_declared, layout_aligned",
		"CREATE TABLE layout_declared (LIKE " + parent + ")",
		aligned,
		"INSERT INTO layout_declared SELECT * FROM " + parent + " ORDER BY collected_at",
		"INSERT INTO layout_aligned (" + strings.Join(names, ", ") + ") SELECT " + strings.Join(names, ", ") + " FROM " + parent +
			" ORDER BY collected_at",
		"VACUUM layout_declared, layout_aligned",
	}
	defer pool.Exec(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS layout_declared, layout_aligned")
	for _, s := range stmts {
		if _, err := pool.Exec(ctx, s); err != nil {
			return c, err
		}
	}
	err = pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM layout_declared), pg_relation_size('layout_declared'),
pg_relation_size('layout_aligned'), (SELECT coalesce(avg(`+textSum+`), 0)::float8 FROM layout_declared t)`).
		Scan(&c.Rows, &c.Declared, &c.Aligned, &c.TextBytes)
	return c, err
}
