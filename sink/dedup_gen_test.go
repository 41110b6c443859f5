package sink

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/pgcollector/pgcollector/bus"
	"github.com/pgcollector/pgcollector/probes"
)

// fleetModel generates the runs of keyed probes (and pg_stat_database)
// of one monitored server: per database a set of tables and statements
// whose counters move at random, with the events dedup must get right
// scripted by run number.
type fleetModel struct {
	rnd    *rand.Rand
	conn   int64
	dbs    []*dbModel
	runNum int
}

type dbModel struct {
	name    string
	oid     int64
	tables  map[int64]int64 // relid -> counter base
	stmts   map[int64]int64 // queryid -> calls
	commits int64
	busy    float64 // share of objects that change per run
	saved   int64   // a dropped table's counter, for its return
}

func newFleetModel(seed uint64, conn int64) *fleetModel {
	m := &fleetModel{rnd: rand.New(rand.NewPCG(seed, 1)), conn: conn}
	app := &dbModel{name: "app", oid: 16384, tables: map[int64]int64{}, stmts: map[int64]int64{}, busy: 0.3}
	for r := int64(1); r <= 20; r++ {
		app.tables[16400+r] = r * 10
	}
	for q := int64(1); q <= 8; q++ {
		app.stmts[q*1000003] = q
	}
	// A database whose tab and backslash in the name test the escaping
	// of the rows the sink adds.
	quiet := &dbModel{name: "qu\tiet\\db", oid: 16385, tables: map[int64]int64{}, stmts: map[int64]int64{}, busy: 0.02}
	for r := int64(1); r <= 5; r++ {
		quiet.tables[17000+r] = r
	}
	m.dbs = []*dbModel{app, quiet}
	return m
}

// step advances the model by one run and applies the scripted events.
func (m *fleetModel) step() {
	m.runNum++
	app := m.dbs[0]
	switch m.runNum {
	case 5:
		delete(app.tables, 16407) // dropped table
	case 9:
		app.tables[16407] = 0 // back again (same relid, counters from zero)
	case 12:
		app.tables[16403] = 0 // counter reset
		app.stmts[3000009] = 0
	case 15:
		return // an idle run: nothing changes anywhere
	case 21:
		delete(app.stmts, 5000015) // statement evicted
	case 27:
		app.saved = app.tables[16405]
		delete(app.tables, 16405) // gone for one run (sink 2 stores it) ...
	case 28:
		// ... and back with the very row it had before (sink 1, whose
		// cache still holds the run before 27, must not skip it).
		defer func() { app.tables[16405] = app.saved }()
	case 30:
		app.tables[16421] = 1 // new table
	}
	for _, db := range m.dbs {
		db.commits += 1 + int64(m.rnd.IntN(50))
		// In key order, so that the same seed gives the same runs.
		for _, k := range sortedKeys64(db.tables) {
			if m.rnd.Float64() < db.busy {
				db.tables[k] += 1 + int64(m.rnd.IntN(9))
			}
		}
		for _, k := range sortedKeys64(db.stmts) {
			if m.rnd.Float64() < db.busy {
				db.stmts[k] += 1 + int64(m.rnd.IntN(9))
			}
		}
	}
}

// batches returns the run's batches at t, one per database and probe.
func (m *fleetModel) batches(t time.Time, slot int64) []bus.Batch {
	var out []bus.Batch
	for _, db := range m.dbs {
		out = append(out,
			m.batch("pg_stat_all_tables", db, t, slot, sortedKeys64(db.tables), func(k int64) []string {
				return tableRow(k, db.tables[k])
			}),
			m.batch("pg_stat_database", db, t, slot, []int64{db.oid}, func(int64) []string {
				return dbRow(db.oid, db.commits)
			}))
		// The quiet database has no statements: an empty run.
		out = append(out, m.batch("pg_stat_statements", db, t, slot, sortedKeys64(db.stmts), func(k int64) []string {
			return stmtRow(k, db.stmts[k])
		}))
	}
	return out
}

func (m *fleetModel) batch(probe string, db *dbModel, t time.Time, slot int64, keys []int64, row func(int64) []string) bus.Batch {
	p, err := probes.ByName(probe)
	if err != nil {
		panic(err)
	}
	names := p.StoredColumnNames()
	var sb strings.Builder
	for _, k := range keys {
		fields := append([]string{fmt.Sprint(m.conn), t.Format("2006-01-02 15:04:05.999999-07"),
			string(appendCopyText(nil, db.name))}, row(k)...)
		if len(fields) != len(names) {
			panic(fmt.Sprintf("%s: %d fields for %d columns", probe, len(fields), len(names)))
		}
		sb.WriteString(strings.Join(fields, "\t"))
		sb.WriteByte('\n')
	}
	return bus.Batch{
		ID: bus.BatchID(m.conn, probe, slot, db.name), Kind: bus.KindRows, ConnectionID: m.conn, Probe: probe,
		Database: db.name, CollectedAt: t, Parts: 1, Rows: len(keys), Columns: names, Data: []byte(sb.String()),
	}
}

// tableRow is a pg_stat_all_tables row whose counters derive from c.
func tableRow(relid, c int64) []string {
	p, _ := probes.ByName("pg_stat_all_tables")
	out := []string{fmt.Sprint(relid), "public", fmt.Sprintf("t%d", relid)}
	for i, col := range p.Columns[3:] {
		out = append(out, value(col.Type, c, i))
	}
	return out
}

func stmtRow(queryid, calls int64) []string {
	p, _ := probes.ByName("pg_stat_statements")
	out := []string{"10", "16384", "t", fmt.Sprint(queryid), fmt.Sprintf("SELECT %d -- \\t tab", queryid)}
	for i, col := range p.Columns[5:] {
		out = append(out, value(col.Type, calls, i))
	}
	return out
}

func dbRow(oid, commits int64) []string {
	p, _ := probes.ByName("pg_stat_database")
	out := []string{fmt.Sprint(oid)}
	for i, col := range p.Columns[1:] {
		out = append(out, value(col.Type, commits, i))
	}
	return out
}

// value renders column i of a row with counter c in COPY text.
func value(typ string, c int64, i int) string {
	switch typ {
	case "bigint", "integer", "numeric":
		return fmt.Sprint(c * int64(i+1))
	case "double precision":
		return fmt.Sprintf("%g", float64(c)*0.25)
	case "boolean":
		return "f"
	case "timestamptz":
		if c == 0 {
			return `\N`
		}
		return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(c) * time.Second).Format("2006-01-02 15:04:05-07")
	default:
		return fmt.Sprintf("v%d", c)
	}
}

func sortedKeys64(m map[int64]int64) []int64 {
	out := make([]int64, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// split cuts a batch into parts of about n rows, as the fetcher does for
// a result too large for one message.
func split(b bus.Batch, n int) []bus.Batch {
	rows := strings.SplitAfter(string(b.Data), "\n")
	rows = rows[:len(rows)-1]
	var parts []bus.Batch
	for i := 0; i < len(rows); i += n {
		p := b
		p.Data = []byte(strings.Join(rows[i:min(i+n, len(rows))], ""))
		p.Rows = min(n, len(rows)-i)
		parts = append(parts, p)
	}
	for i := range parts {
		parts[i].Part, parts[i].Parts = i, len(parts)
	}
	return parts
}
