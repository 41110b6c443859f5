package grafana

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/internal/obs/obstest"
	"github.com/pgcollector/pgcollector/internal/pgtest"
	"github.com/pgcollector/pgcollector/internal/store"
	"github.com/pgcollector/pgcollector/probes"
)

// query is one SQL text of a dashboard: a panel target or a variable.
type query struct {
	where string
	sql   string
	table bool // panel wants a table (or a stat): at least one row
}

// queries walks a dashboard's panels (rows included) and variables.
func queries(t *testing.T, path string) []query {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var d struct {
		Panels     []panel `json:"panels"`
		Templating struct {
			List []struct {
				Name  string `json:"name"`
				Type  string `json:"type"`
				Query any    `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	require.NoError(t, json.Unmarshal(b, &d), path)
	var out []query
	var walk func(ps []panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			for _, tg := range p.Targets {
				require.NotEmpty(t, tg.RawSQL, "%s: panel %q has a target without rawSql", path, p.Title)
				out = append(out, query{where: "panel " + strconv.Quote(p.Title), sql: tg.RawSQL, table: tg.Format == "table"})
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	for _, v := range d.Templating.List {
		if sql, ok := v.Query.(string); ok && v.Type == "query" {
			out = append(out, query{where: "variable $" + v.Name, sql: sql, table: true})
		}
	}
	return out
}

type panel struct {
	Title   string  `json:"title"`
	Panels  []panel `json:"panels"`
	Targets []struct {
		RawSQL string `json:"rawSql"`
		Format string `json:"format"`
	} `json:"targets"`
}

// macros are Grafana's PostgreSQL macros the dashboards use, expanded the
// way Grafana expands them for a one-minute interval.
var (
	timeGroupAlias = regexp.MustCompile(`\$__timeGroupAlias\(([^,()]+),\s*\$__interval\)`)
	timeFilter     = regexp.MustCompile(`\$__timeFilter\(([^()]+)\)`)
	anyMacro       = regexp.MustCompile(`\$[_a-zA-Z{]+`)
)

func expand(sql string, from, to time.Time, connection int64) string {
	lit := func(t time.Time) string { return "'" + t.UTC().Format(time.RFC3339) + "'" }
	sql = timeGroupAlias.ReplaceAllString(sql, `floor(extract(epoch from $1)/60)*60 AS "time"`)
	sql = timeFilter.ReplaceAllString(sql, "$1 BETWEEN "+lit(from)+" AND "+lit(to))
	sql = strings.NewReplacer("$__timeFrom()", lit(from), "$__timeTo()", lit(to),
		"$connection", strconv.FormatInt(connection, 10)).Replace(sql)
	return sql
}

func TestEveryPanelQueryRunsOnAPopulatedDatastore(t *testing.T) {
	files, err := filepath.Glob("*.json")
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"connection.json", "fleet.json"}, files)

	ctx := t.Context()
	pg := pgtest.Start(t, pgtest.Options{})
	pool, err := pgxpool.New(ctx, pg.DSN("postgres"))
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	require.NoError(t, store.Migrate(ctx, pool, probes.All))
	seed, err := obstest.Seed(ctx, pool)
	require.NoError(t, err)
	to := time.Now().Add(time.Minute)
	from := to.Add(-6 * time.Hour)

	for _, file := range files {
		qs := queries(t, file)
		require.NotEmpty(t, qs, file)
		for _, q := range qs {
			t.Run(file+" "+q.where, func(t *testing.T) {
				sql := expand(q.sql, from, to, seed.Alpha)
				require.Empty(t, anyMacro.FindAllString(sql, -1), "a macro or variable the test does not expand:\n%s", sql)
				rows, err := pool.Query(ctx, sql)
				require.NoError(t, err, sql)
				n := 0
				var timeCol = -1
				for i, fd := range rows.FieldDescriptions() {
					if fd.Name == "time" {
						timeCol = i
					}
				}
				for rows.Next() {
					n++
				}
				require.NoError(t, rows.Err(), sql)
				require.Positive(t, n, "no rows on the seeded datastore:\n%s", sql)
				if !q.table {
					require.GreaterOrEqual(t, timeCol, 0, "a time series needs a time column:\n%s", sql)
				}
			})
		}
	}
}
