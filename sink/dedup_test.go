package sink

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/bus"
	"github.com/pgcollector/pgcollector/internal/config"
	"github.com/pgcollector/pgcollector/internal/pgtest"
	"github.com/pgcollector/pgcollector/internal/store"
	"github.com/pgcollector/pgcollector/probes"
)

// datastore is one database of a test cluster migrated with the real
// catalogue.
type datastore struct {
	t    testing.TB
	pool *pgxpool.Pool
}

func newDatastore(t testing.TB, pg *pgtest.Cluster, admin *pgxpool.Pool, name string) *datastore {
	t.Helper()
	ctx := t.Context()
	_, err := admin.Exec(ctx, "CREATE DATABASE "+name)
	require.NoError(t, err)
	pool, err := pgxpool.New(ctx, pg.DSN(name))
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	require.NoError(t, store.Migrate(ctx, pool, probes.All))
	_, err = pool.Exec(ctx, `INSERT INTO public.connections (id, name, host) VALUES (1, 'one', 'h1')`)
	require.NoError(t, err)
	return &datastore{t: t, pool: pool}
}

// ingester is a fresh sink writing to ds: a new process, with an empty
// dedup cache.
func (ds *datastore) ingester(dedup bool, force bool) *Ingester {
	ds.t.Helper()
	return ds.ingesterCache(dedup, force, config.Default[Config]().DedupCacheBytes)
}

// ingesterCache is ingester with a dedup cache of the given size.
func (ds *datastore) ingesterCache(dedup bool, force bool, cacheBytes bus.ByteSize) *Ingester {
	ds.t.Helper()
	cfg := config.Default[Config]()
	cfg.Dedup = dedup
	cfg.DedupCacheBytes = cacheBytes
	in, err := NewIngester(cfg, ds.pool, slog.New(slog.NewTextHandler(io.Discard, nil)), force)
	require.NoError(ds.t, err)
	return in
}

// rows returns the rows of sql, each as its text form, in order.
func (ds *datastore) rows(sql string, args ...any) []string {
	ds.t.Helper()
	rows, err := ds.pool.Query(ds.t.Context(), sql, args...)
	require.NoError(ds.t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		vals, err := rows.Values()
		require.NoError(ds.t, err)
		out = append(out, fmt.Sprint(vals...))
	}
	require.NoError(ds.t, rows.Err())
	return out
}

func (ds *datastore) count(sql string) int {
	var n int
	require.NoError(ds.t, ds.pool.QueryRow(ds.t.Context(), sql).Scan(&n))
	return n
}

// scenario is one delivery step: batches handed to one sink of a store.
type delivery struct {
	sink    int // which of the dedup store's sinks; the full store has one
	batches []bus.Batch
}

// dedupScenario builds the deliveries of 40 runs, 5 minutes apart, from a
// Sunday 21:03 UTC across the Monday partition boundary, with a
// redelivery, batches out of order, a sink restart, two sinks taking turns,
// a batch split in parts and a late run after a keyframe.
func dedupScenario() (deliveries []delivery, runTimes []time.Time) {
	m := newFleetModel(7, 1)
	start := time.Date(2026, 12, 6, 21, 3, 0, 0, time.UTC) // a Sunday
	runs := map[int][]bus.Batch{}
	for r := 1; r <= 40; r++ {
		m.step()
		t := start.Add(time.Duration(r-1) * 5 * time.Minute)
		runTimes = append(runTimes, t)
		bs := m.batches(t, int64(r))
		if r == 33 {
			var parted []bus.Batch
			for _, b := range bs {
				if b.Probe == "pg_stat_all_tables" && b.Database == "app" {
					parted = append(parted, split(b, 7)...)
				} else {
					parted = append(parted, b)
				}
			}
			bs = parted
		}
		runs[r] = bs
	}
	order := []int{}
	for r := 1; r <= 40; r++ {
		switch r {
		case 11:
			order = append(order, 11, 10) // 10 delivered again
		case 17:
			// 17 comes after 19
		case 19:
			order = append(order, 19, 17)
		case 38:
			// 38 comes last, after the keyframe of 39 or 40
		default:
			order = append(order, r)
		}
	}
	order = append(order, 38)
	for _, r := range order {
		sink := 0
		switch {
		case r >= 20 && r < 25:
			sink = 1 // sink 0 restarted: a fresh cache
		case r >= 25 && r <= 32:
			sink = 1 + r%2 // two sinks taking turns
		case r > 32:
			sink = 2
		}
		deliveries = append(deliveries, delivery{sink: sink, batches: runs[r]})
	}
	return deliveries, runTimes
}

// TestDedupEqualsFullSeries stores the same deliveries into a datastore
// with dedup off and one with dedup on, and requires that the stored
// form, read through metrics.<probe>_series and _at, is the full series at
// every run time and between runs.
func TestDedupEqualsFullSeries(t *testing.T) {
	for _, v := range pgtest.Versions() {
		t.Run(fmt.Sprintf("pg%d", v), func(t *testing.T) {
			full, dd := storeScenario(t, v)
			for _, probe := range []string{"pg_stat_all_tables", "pg_stat_statements"} {
				raw := full.rows(`SELECT x::text FROM ` + store.Table(probe) + ` x ORDER BY 1`)
				require.NotEmpty(t, raw)
				series := `SELECT x::text FROM ` + store.SeriesFunction(probe) + `('-infinity', 'infinity') x ORDER BY 1`
				require.Equal(t, raw, full.rows(series), "%s: series of the full store", probe)
				require.Equal(t, raw, dd.rows(series), "%s: series of the deduplicated store", probe)
				fullRows, ddRows := full.count(`SELECT count(*) FROM `+store.Table(probe)), dd.count(`SELECT count(*) FROM `+store.Table(probe))
				t.Logf("%s: %d rows stored in full, %d deduplicated (markers and tombstones included)", probe, fullRows, ddRows)
				require.Less(t, ddRows, fullRows*3/4, probe)
			}
			// The scenario reached every case: keyframes, deltas and
			// tombstones, and full runs outside the chain (the batch
			// out of order, the one in parts, the late one).
			tbl := store.Table("pg_stat_all_tables")
			require.Equal(t, []string{"d", "k", "t"}, dd.rows(`SELECT DISTINCT sample_kind::text FROM `+tbl+
				` WHERE sample_kind IS NOT NULL AND database_name = 'app' ORDER BY 1`))
			fullRuns := dd.rows(`SELECT DISTINCT collected_at FROM ` + tbl + ` x WHERE database_name = 'app' AND NOT EXISTS (
  SELECT 1 FROM ` + tbl + ` m WHERE m.collected_at = x.collected_at AND m.database_name = 'app' AND m.sample_kind IS NOT NULL)
ORDER BY 1`)
			require.Len(t, fullRuns, 3, "runs 17, 33 and 38 stored in full without a marker: %v", fullRuns)
			// The first run of the new week (run 37, Monday 00:03) is a keyframe.
			require.Equal(t, 1, dd.count(`SELECT count(*) FROM `+tbl+` WHERE sample_kind = 'k' AND database_name = 'app'
				AND collected_at = '2026-12-07 00:03:00+00'`))
			// Between runs, before the first and long after the last.
			_, runTimes := dedupScenario()
			times := []time.Time{runTimes[0].Add(-time.Minute), runTimes[len(runTimes)-1].Add(3 * time.Hour)}
			for _, rt := range runTimes {
				times = append(times, rt, rt.Add(150*time.Second))
			}
			for _, probe := range []string{"pg_stat_all_tables", "pg_stat_statements"} {
				at := `SELECT x::text FROM ` + store.AtFunction(probe) + `($1) x ORDER BY 1`
				for _, tm := range times {
					want := full.rows(at, tm)
					if !tm.Before(runTimes[0]) && tm.Before(runTimes[len(runTimes)-1].Add(time.Hour)) {
						require.NotEmpty(t, want, "%s at %s", probe, tm)
					}
					require.Equal(t, want, dd.rows(at, tm), "%s at %s", probe, tm)
				}
			}
			// Retention drops the Sunday's week in both: the Monday's
			// partition stands alone.
			for _, ds := range []*datastore{full, dd} {
				for _, probe := range []string{"pg_stat_all_tables", "pg_stat_statements"} {
					_, err := store.DropPartition(t.Context(), ds.pool, probe+"_20261130", time.Second)
					require.NoError(t, err)
				}
			}
			for _, probe := range []string{"pg_stat_all_tables", "pg_stat_statements"} {
				raw := full.rows(`SELECT x::text FROM ` + store.Table(probe) + ` x ORDER BY 1`)
				require.NotEmpty(t, raw)
				series := `SELECT x::text FROM ` + store.SeriesFunction(probe) + `('-infinity', 'infinity') x ORDER BY 1`
				require.Equal(t, raw, dd.rows(series), "%s: series of the deduplicated store after retention", probe)
			}
		})
	}
}

// storeScenario runs the deliveries of dedupScenario into two datastores
// of one cluster, dedup off and on, then replays one run with force into
// the deduplicated one.
func storeScenario(t *testing.T, version int) (full, dd *datastore) {
	t.Helper()
	ctx := t.Context()
	pg := pgtest.Start(t, pgtest.Options{Version: version})
	admin, err := pgxpool.New(ctx, pg.DSN("postgres"))
	require.NoError(t, err)
	t.Cleanup(admin.Close)
	full = newDatastore(t, pg, admin, "full_series")
	dd = newDatastore(t, pg, admin, "deduplicated")
	deliveries, _ := dedupScenario()
	fullSink := full.ingester(false, false)
	// The second sink keeps no cache and the third one too small for
	// every chain: what is stored must not depend on what they remember.
	sinks := []*Ingester{dd.ingester(true, false), dd.ingesterCache(true, false, 0), dd.ingesterCache(true, false, 2*bus.KiB)}
	results := make([]IngestResult, len(sinks))
	for _, d := range deliveries {
		_, err := fullSink.Ingest(ctx, d.batches)
		require.NoError(t, err)
		res, err := sinks[d.sink].Ingest(ctx, d.batches)
		require.NoError(t, err)
		results[d.sink].Add(res)
	}
	// The caches are counted as they were used: the sink without one
	// reads every chain, the one with the default cache finds some.
	require.Zero(t, results[1].CacheHits, "no cache, no hits")
	require.Positive(t, results[1].CacheMisses)
	require.Positive(t, results[0].CacheHits, "default cache: %+v", results[0])
	// A forced replay of a delta run keeps its chain intact.
	replayed := deliveries[22].batches
	res, err := dd.ingester(true, true).Ingest(ctx, replayed)
	require.NoError(t, err)
	require.Positive(t, res.Rows)
	return full, dd
}

// TestDedupTwoSinksOnTheBus runs the scenario's batches through the real
// stage: two sinks with two workers each consume PGC_BATCHES at once, so
// runs of one chain are written concurrently, in any order, by sinks
// whose caches go stale. The stored form must still read as the full
// series, and the rows skipped are counted.
func TestDedupTwoSinksOnTheBus(t *testing.T) {
	e := newEnv(t, probes.All)
	full := newDatastore(t, e.pg, e.pool, "full_series")
	deliveries, _ := dedupScenario()
	fullSink := full.ingester(false, false)
	for _, d := range deliveries {
		_, err := fullSink.Ingest(e.ctx, d.batches)
		require.NoError(t, err)
	}
	cfg := testConfig()
	a, stopA := e.start(cfg, nil)
	b, stopB := e.start(cfg, nil)
	for _, d := range deliveries {
		for i, bt := range d.batches {
			e.publishRaw(bt, fmt.Sprintf("%s#%d#%d#%d", bt.ID, bt.Part, len(d.batches), i))
		}
	}
	e.settled()
	require.NoError(t, stopA())
	require.NoError(t, stopB())
	dd := &datastore{t: t, pool: e.pool}
	for _, probe := range []string{"pg_stat_all_tables", "pg_stat_statements"} {
		series := `SELECT x::text FROM ` + store.SeriesFunction(probe) + `('-infinity', 'infinity') x ORDER BY 1`
		require.Equal(t, full.rows(`SELECT x::text FROM `+store.Table(probe)+` x ORDER BY 1`), dd.rows(series), probe)
	}
	skipped := a.Stats().RowsUnchanged.Load() + b.Stats().RowsUnchanged.Load()
	t.Logf("rows skipped: %d (sink a %d, sink b %d)", skipped, a.Stats().RowsUnchanged.Load(), b.Stats().RowsUnchanged.Load())
	require.Positive(t, skipped)
}

func TestDedupConfig(t *testing.T) {
	c := config.Default[Config]()
	require.True(t, c.Dedup)
	require.Equal(t, time.Hour, c.FullEvery)
	c.FullEvery = time.Second
	require.ErrorContains(t, c.Validate(), "PGC_SINK_FULL_EVERY")
	c.FullEvery = 8 * 24 * time.Hour
	require.ErrorContains(t, c.Validate(), "PGC_SINK_FULL_EVERY")
	c = config.Default[Config]()
	require.Equal(t, 8*bus.MiB, c.DedupCacheBytes)
	c.DedupCacheBytes = -1
	require.ErrorContains(t, c.Validate(), "PGC_SINK_DEDUP_CACHE_BYTES")
}

func TestRowScanner(t *testing.T) {
	cols := []string{"connection_id", "collected_at", "database_name", "a", "k1", "b", "k2"}
	sc, err := newRowScanner(cols, []string{"k1", "k2"})
	require.NoError(t, err)
	k, h1, err := sc.scan([]byte("1\t2026-01-01 00:00:00+00\tdb\tx\tK\\t1\ty\tK2"))
	require.NoError(t, err)
	require.Equal(t, "K\\t1\tK2", string(k))
	// Only collected_at differs: the same hash.
	_, h2, err := sc.scan([]byte("1\t2026-01-01 00:05:00+00\tdb\tx\tK\\t1\ty\tK2"))
	require.NoError(t, err)
	require.Equal(t, h1, h2)
	_, h3, err := sc.scan([]byte("1\t2026-01-01 00:05:00+00\tdb\tx\tK\\t1\tz\tK2"))
	require.NoError(t, err)
	require.NotEqual(t, h1, h3)
	_, _, err = sc.scan([]byte("1\t2026-01-01 00:05:00+00\tdb"))
	require.Error(t, err)
	_, err = newRowScanner(cols, []string{"missing"})
	require.Error(t, err)

	st := &runState{}
	want := map[string]uint64{"a": 1, "K\\t1\tK2": h1, "": 0, "gone": 7, "b": 9}
	for _, k := range []string{"a", "K\\t1\tK2", "", "gone", "b"} {
		o, collision := st.find([]byte(k))
		require.Nil(t, o)
		require.False(t, collision)
		st.add([]byte(k), want[k], 1)
	}
	o, _ := st.find([]byte("a"))
	st.setHash(o, 2)
	want["a"] = 2
	o, _ = st.find([]byte("gone"))
	st.remove(o)
	delete(want, "gone")
	o, _ = st.find([]byte("gone"))
	require.Nil(t, o)
	loaded := &runState{}
	require.NoError(t, loaded.decodeObjects(slices.Clone(st.encoded())))
	require.Equal(t, 4, loaded.live)
	for _, s := range []*runState{st, loaded} {
		require.Len(t, s.objs, 4)
		var order []string
		for i := range s.objs {
			order = append(order, string(s.keyOf(&s.objs[i])))
		}
		require.Equal(t, []string{"a", "K\\t1\tK2", "", "b"}, order, "compacted in insertion order")
		for k, h := range want {
			o, collision := s.find([]byte(k))
			require.False(t, collision)
			require.NotNil(t, o, k)
			require.Equal(t, h, s.hash(o), k)
		}
	}
	require.Error(t, (&runState{}).decodeObjects([]byte{5, 'a'}))
	twice := append(slices.Clone(loaded.blob), loaded.blob[:1+len("a")+8]...)
	require.ErrorIs(t, (&runState{}).decodeObjects(twice), errKeyCollision)
}

// TestStateCacheBudget: the cache never holds more than its budget, a
// state larger than the budget is not kept, a budget of 0 keeps nothing,
// and checkout gives a state back exactly once.
func TestStateCacheBudget(t *testing.T) {
	state := func(objects int) *runState {
		st := &runState{at: time.Now()}
		for i := range objects {
			st.add([]byte(fmt.Sprintf("table_%05d", i)), uint64(i), 1)
		}
		return st
	}
	one := state(100).size()
	c := newStateCache(10 * one)
	for i := range 50 {
		c.checkin(map[stateKey]*runState{{conn: int64(i), db: "d", probe: "p"}: state(100)}, 0, 1)
		used, n, _ := c.size()
		require.LessOrEqual(t, used, 10*one)
		require.LessOrEqual(t, n, int64(10))
	}
	_, n, _ := c.size()
	require.Equal(t, int64(10), n, "full, not emptied")
	c.checkin(map[stateKey]*runState{{conn: 99, db: "d", probe: "p"}: state(2000)}, 0, 1)
	require.Nil(t, c.checkout(stateKey{conn: 99, db: "d", probe: "p"}), "larger than the budget")
	k := stateKey{conn: 49, db: "d", probe: "p"}
	require.NotNil(t, c.checkout(k), "the newest state stays")
	require.Nil(t, c.checkout(k))
	used, n, _ := c.size()
	require.Equal(t, int64(9), n)
	require.Equal(t, 9*one, used)

	zero := newStateCache(0)
	zero.checkin(map[stateKey]*runState{k: state(1)}, 0, 1)
	require.Nil(t, zero.checkout(k))
}

// TestStateCachePausesWhenItDoesNotHelp writes chains in turn, as the
// fleet does, and checks that a cache far too small for them gives its
// memory up, tries again after the pause, and that caches which help
// (all chains fit, or a few more than fit) never pause.
func TestStateCachePausesWhenItDoesNotHelp(t *testing.T) {
	st := &runState{at: time.Now()}
	for i := range 100 {
		st.add([]byte(fmt.Sprintf("table_%05d", i)), uint64(i), 1)
	}
	one := st.size()
	// cycle writes each of chains chains once, in order, as a sink does
	// over one interval, and reports whether the cache was paused at any
	// point, whether it held states at any point, and how many checkouts
	// found their state.
	cycle := func(c *stateCache, chains int) (paused, held bool, found int) {
		for i := range chains {
			k := stateKey{conn: int64(i), db: "d", probe: "p"}
			got := c.checkout(k)
			var hit int64
			if got != nil {
				found, hit = found+1, 1
			} else {
				got = &runState{at: st.at, blob: st.blob, objs: st.objs, index: st.index}
			}
			c.checkin(map[stateKey]*runState{k: got}, hit, 1-hit)
			used, _, p := c.size()
			paused = paused || p
			held = held || used > 0
		}
		return paused, held, found
	}

	big := newStateCache(10 * one)
	paused, _, _ := cycle(big, 1000) // 100 budgets of states: ~1 % would be found
	require.True(t, paused)
	used, n, p := big.size()
	require.True(t, p)
	require.Zero(t, used, "a paused cache holds nothing")
	require.Zero(t, n)
	require.Nil(t, big.checkout(stateKey{conn: 999, db: "d", probe: "p"}))
	// The pause began after one period (80 writes of a tenth of the
	// budget) and lasts pausePeriods more: until write 1,360.
	_, held, _ := cycle(big, 300)
	require.False(t, held, "still paused at write 1,300")
	_, held, _ = cycle(big, 1000)
	require.True(t, held, "tried again after the pause")

	// Random eviction under writes in turn finds ~70 % of 1.2 budgets of
	// chains, ~40 % of 1.5, ~20 % of 2 and under 1 % of 3.
	for _, chains := range []int{10, 12, 15} { // fits, 1.2 and 1.5 budgets
		c := newStateCache(10 * one)
		found := 0
		for range 20 {
			p, _, f := cycle(c, chains)
			require.False(t, p, "%d chains, a cache of 10", chains)
			found += f
		}
		require.Positive(t, found)
	}

	// The pause judges by the lock's count, not by what checkout found:
	// with another sink writing the same chains, a state the cache holds
	// may be older than the committed one, and the write reads it anyway.
	stale := newStateCache(10 * one)
	paused = false
	for i := range 20 * 12 { // 1.2 budgets of chains, each found ~70 % of the time
		k := stateKey{conn: int64(i % 12), db: "d", probe: "p"}
		got := stale.checkout(k)
		if got == nil {
			got = &runState{at: st.at, blob: st.blob, objs: st.objs, index: st.index}
		}
		stale.checkin(map[stateKey]*runState{k: got}, 0, 1)
		_, _, p := stale.size()
		paused = paused || p
	}
	require.True(t, paused, "states that are always stale do not keep the cache on")
}

// TestDocumentedQueries runs every query of docs/storage.md on the
// datastore stored in full and the deduplicated one, over windows inside
// a chain, across keyframes and across the partition boundary, and
// requires the same answer.
func TestDocumentedQueries(t *testing.T) {
	doc, err := os.ReadFile("../docs/storage.md")
	require.NoError(t, err)
	queries := documentedQueries(string(doc))
	require.Len(t, queries, 3)
	full, dd := storeScenario(t, 0)
	_, runs := dedupScenario()
	windows := [][2]time.Time{
		{runs[0], runs[len(runs)-1]},
		{runs[2].Add(time.Minute), runs[19]},
		{runs[9], runs[13].Add(-time.Minute)},
		{runs[29], runs[39]}, // across Monday 00:00 UTC
	}
	for name, q := range queries {
		sql := strings.NewReplacer(":'from'", "$1::timestamptz", ":'to'", "$2::timestamptz").Replace(q)
		for _, w := range windows {
			want := full.rows(sql, w[0], w[1])
			require.NotEmpty(t, want, "%s over %v", name, w)
			require.Equal(t, want, dd.rows(sql, w[0], w[1]), "%s over %v", name, w)
		}
	}
}

// documentedQueries returns the SQL blocks of a page that follow a
// "<!-- query: name -->" line, by name.
func documentedQueries(doc string) map[string]string {
	out := map[string]string{}
	for _, chunk := range strings.Split(doc, "<!-- query: ")[1:] {
		name, rest, _ := strings.Cut(chunk, " -->")
		_, body, _ := strings.Cut(rest, "```sql\n")
		body, _, _ = strings.Cut(body, "```")
		out[name] = body
	}
	return out
}
