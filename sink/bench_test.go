package sink

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/bus"
	"github.com/pgcollector/pgcollector/internal/bufpool"
	"github.com/pgcollector/pgcollector/internal/store"
	"github.com/pgcollector/pgcollector/probes"

	"github.com/pgcollector/pgcollector/internal/config"
)

// BenchmarkSink measures the stage alone: b.N batches of 1,000 rows wait
// in the embedded JetStream, and the timer runs while the sink writes them
// through COPY and acknowledges them. Rows/s is the figure docs/design.md's hot
// path is judged by; compare with its "Measured" COPY figures.
func BenchmarkSink(b *testing.B) {
	e := newEnv(b, catalogue)
	e.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	const rowsPerBatch = 1000
	now := time.Now().UTC()
	batch := serverBatch(1, 0, now, rowsPerBatch)
	for i := range b.N {
		batch.ID = serverBatch(1, int64(i), now, 0).ID
		e.publish(batch)
	}
	b.SetBytes(int64(len(batch.Data)))
	b.ResetTimer()
	s, stop := e.start(config.Default[Config](), nil)
	for s.Stats().BatchesStored.Load() < int64(b.N) {
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*rowsPerBatch)/b.Elapsed().Seconds(), "rows/s")
	if err := stop(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkRawCopy is the floor BenchmarkSink is compared with: the same
// rows written by bare text COPY statements of about FlushBytes each, with
// no bus, ledger or state.
func BenchmarkRawCopy(b *testing.B) {
	e := newEnv(b, catalogue)
	const rowsPerBatch = 1000
	now := time.Now().UTC()
	data := serverBatch(1, 0, now, rowsPerBatch).Data
	require.NoError(b, store.EnsurePartition(e.ctx, e.pool, "t_server", now))
	perCopy := max(1, int(config.Default[Config]().FlushBytes)/len(data))
	sql := copySQL("t_server", []string{"connection_id", "collected_at", "value", "label"})
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for done := 0; done < b.N; done += perCopy {
		n := min(perCopy, b.N-done)
		readers := make([]io.Reader, n)
		for i := range readers {
			readers[i] = bytes.NewReader(data)
		}
		conn, err := e.pool.Acquire(e.ctx)
		require.NoError(b, err)
		_, err = conn.Conn().PgConn().CopyFrom(e.ctx, io.MultiReader(readers...), sql)
		conn.Release()
		require.NoError(b, err)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*rowsPerBatch)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkSinkDedup measures the write path of one run of 10,000
// pg_stat_all_tables rows (ledger, COPY, state, in one transaction) with
// PGC_SINK_DEDUP off, on with a tenth of the tables changed per run (a
// busy server), and on with every table changed (dedup's worst case: it
// hashes every row and stores them all). cpu-ns/row is this process's
// CPU (user and system, from getrusage) per collected row; stored/op the
// rows written per run, markers and tombstones included.
func BenchmarkSinkDedup(b *testing.B) {
	e := newEnv(b, probes.All)
	for _, bc := range []struct {
		name    string
		dedup   bool
		changed int // tables changed per run, of 10,000
	}{
		{"off", false, 1000},
		{"on_10pct_changed", true, 1000},
		{"on_all_changed", true, 10000},
	} {
		b.Run(bc.name, func(b *testing.B) {
			const tables = 10000
			cfg := config.Default[Config]()
			cfg.Dedup = bc.dedup
			in, err := NewIngester(cfg, e.pool, slog.New(slog.NewTextHandler(io.Discard, nil)), false)
			require.NoError(b, err)
			// Each sub-benchmark is its own connection, so the chains
			// of one do not meet the next one's.
			conn := int64(100 + len(bc.name))
			e.exec(`INSERT INTO public.connections (id, name, host) VALUES ($1, $2, 'h') ON CONFLICT DO NOTHING`,
				conn, bc.name)
			counters := make([]int64, tables)
			rows := make([][]byte, tables)
			for i := range rows {
				rows[i] = []byte(strings.Join(tableRow(int64(20000+i), counters[i]), "\t"))
			}
			start := time.Now().UTC().Add(time.Duration(benchSlot) * time.Second)
			var cpu time.Duration
			var stored int64
			b.ResetTimer()
			for n := range b.N {
				b.StopTimer()
				for j := range bc.changed {
					i := (n*bc.changed + j*7) % tables
					counters[i]++
					rows[i] = []byte(strings.Join(tableRow(int64(20000+i), counters[i]), "\t"))
				}
				at := start.Add(time.Duration(n) * time.Second)
				benchSlot++ // unique over the benchmark's repeated runs
				batch := benchBatch(conn, at, benchSlot, rows)
				// The generator's garbage is not the write's: collect it
				// before the clock runs.
				runtime.GC()
				b.StartTimer()
				before := processCPU()
				res, err := in.Ingest(e.ctx, []bus.Batch{batch})
				cpu += processCPU() - before
				require.NoError(b, err)
				stored += res.Rows
			}
			b.StopTimer()
			var extra int64
			require.NoError(b, e.pool.QueryRow(e.ctx, `SELECT count(*) FROM metrics.pg_stat_all_tables
				WHERE connection_id = $1 AND sample_kind IS NOT NULL`, conn).Scan(&extra))
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*tables), "cpu-ns/row")
			b.ReportMetric(float64(stored+extra)/float64(b.N), "stored/op")
			b.ReportMetric(float64(b.N*tables)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

var benchSlot int64

// benchBatch is one run of pg_stat_all_tables of database app.
func benchBatch(conn int64, at time.Time, slot int64, rows [][]byte) bus.Batch {
	p, _ := probes.ByName("pg_stat_all_tables")
	var names []string
	for _, c := range p.StoredColumns() {
		names = append(names, c.Name)
	}
	prefix := fmt.Appendf(nil, "%d\t%s\tapp\t", conn, at.Format("2006-01-02 15:04:05.999999-07"))
	var data []byte
	for _, r := range rows {
		data = append(append(append(data, prefix...), r...), '\n')
	}
	return bus.Batch{ID: bus.BatchID(conn, p.Name, slot, "app"), Kind: bus.KindRows, ConnectionID: conn, Probe: p.Name,
		Database: "app", CollectedAt: at, Parts: 1, Rows: len(rows), Columns: names, Data: data}
}

// processCPU is the user and system CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkDedupDecide is the collector CPU dedup adds per row, without
// the datastore: deciding one run of 10,000 pg_stat_all_tables rows of
// which a tenth changed (split into fields, hashed, looked up, the kept
// rows copied, the markers written).
func BenchmarkDedupDecide(b *testing.B) {
	const tables = 10000
	d := newDeduper(config.Default[Config](), probes.All)
	rows := make([][]byte, tables)
	counters := make([]int64, tables)
	for i := range rows {
		rows[i] = []byte(strings.Join(tableRow(int64(20000+i), 0), "\t"))
	}
	st := &runState{}
	start := time.Now().UTC()
	w := &dedupWork{changed: map[stateKey]bool{}, extras: map[string]*extraRows{}}
	it := &item{b: benchBatch(1, start, 0, rows)}
	d.decide(it, st, w) // the keyframe
	batches := make([]bus.Batch, 8)
	for n := range batches {
		for j := range tables / 10 {
			i := (n*tables/10 + j*7) % tables
			counters[i]++
			rows[i] = []byte(strings.Join(tableRow(int64(20000+i), counters[i]), "\t"))
		}
		batches[n] = benchBatch(1, start, int64(n), rows)
	}
	b.SetBytes(int64(len(batches[0].Data)))
	b.ResetTimer()
	for n := range b.N {
		bt := batches[n%len(batches)]
		bt.CollectedAt = start.Add(time.Duration(n+1) * time.Second)
		it := &item{b: bt}
		w.extras = map[string]*extraRows{}
		d.decide(it, st, w)
		if it.filtered {
			bufpool.Put(it.data)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*tables), "ns/row")
	// What the dedup cache holds per object (dedup_state.go), key text
	// included: the budget PGC_SINK_DEDUP_CACHE_BYTES divided by it is
	// the objects kept in memory.
	b.ReportMetric(float64(st.size())/tables, "state-B/object")
}
