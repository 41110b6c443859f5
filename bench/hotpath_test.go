package bench

import (
	"bytes"
	"context"
	"github.com/pgcollector/pgcollector/stages/fetcher"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/bus"
	"github.com/pgcollector/pgcollector/internal/partition"
	"github.com/pgcollector/pgcollector/internal/pgtest"
	"github.com/pgcollector/pgcollector/internal/store"
	"github.com/pgcollector/pgcollector/probes"
)

// The benchmarks that need PostgreSQL share one cluster, started by the
// first of them and stopped after all ran: holding a monitored database
// with 300 tables (the fetch side) and a migrated datastore (the COPY side).
var shared struct {
	once sync.Once
	c    *pgtest.Cluster
	pool *pgxpool.Pool
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.pool != nil {
		shared.pool.Close()
	}
	if shared.c != nil {
		_ = shared.c.Close()
	}
	os.Exit(code)
}

func sharedCluster(b *testing.B) (*pgtest.Cluster, *pgxpool.Pool) {
	b.Helper()
	shared.once.Do(func() {
		ctx := context.Background()
		c, err := pgtest.StartCluster(ctx, pgtest.Options{Settings: monitoredSettings(100)})
		if err != nil {
			shared.err = err
			return
		}
		shared.c = c
		if err := populate(ctx, c, Content{AppDatabases: 1, Tables: 300, Functions: 10}); err != nil {
			shared.err = err
			return
		}
		if shared.pool, err = pgxpool.New(ctx, c.DSN("postgres")); err != nil {
			shared.err = err
			return
		}
		shared.err = store.Migrate(ctx, shared.pool, probes.All)
	})
	require.NoError(b, shared.err)
	return shared.c, shared.pool
}

// tablesBatch is a pg_stat_all_tables result of the shared cluster.
func tablesBatch(b *testing.B) (probes.Probe, []byte) {
	c, _ := sharedCluster(b)
	p, err := probes.ByName("pg_stat_all_tables")
	require.NoError(b, err)
	conn, err := ConnectMonitored(b.Context(), c.DSNFor(MonitorRole, MonitorPassword, AppDatabase(1)))
	require.NoError(b, err)
	defer conn.Close(b.Context())
	data, err := CopyOut(b.Context(), conn, p, 1, time.Now())
	require.NoError(b, err)
	return p, data
}

// BenchmarkFetch compares the two ways of reading a probe result on the
// fetch side: COPY (…) TO STDOUT into bytes (the design), and pgx Query
// with every value decoded into []any (the plain way). cpu-ns/row is this
// process's CPU, the collector's share; ns/row includes the server's.
func BenchmarkFetch(b *testing.B) {
	c, _ := sharedCluster(b)
	p, err := probes.ByName("pg_stat_all_tables")
	require.NoError(b, err)
	conn, err := ConnectMonitored(b.Context(), c.DSNFor(MonitorRole, MonitorPassword, AppDatabase(1)))
	require.NoError(b, err)
	defer conn.Close(b.Context())
	at := time.Now()
	sel, err := ProbeSelect(p, serverVersionNum(conn))
	require.NoError(b, err)
	b.Run("copy-out", func(b *testing.B) {
		rows := 0
		cpu0 := SelfCPU()
		for b.Loop() {
			w := fetcher.NewRowPrefixer(1, at, 0)
			_, err := conn.PgConn().CopyTo(b.Context(), w, "COPY ("+sel+") TO STDOUT")
			require.NoError(b, err)
			rows += bytes.Count(w.Bytes(), []byte{'\n'})
		}
		reportRows(b, rows, SelfCPU()-cpu0)
	})
	b.Run("query-decode", func(b *testing.B) {
		rows := 0
		cpu0 := SelfCPU()
		for b.Loop() {
			rs, err := conn.Query(b.Context(), sel)
			require.NoError(b, err)
			for rs.Next() {
				_, err := rs.Values()
				require.NoError(b, err)
				rows++
			}
			require.NoError(b, rs.Err())
		}
		reportRows(b, rows, SelfCPU()-cpu0)
	})
}

// BenchmarkCopyFeed compares the two ways of writing rows into a weekly
// partition: COPY text fed unchanged (the sink's feed: 10 batches of
// pg_stat_all_tables per statement), and pgx CopyFrom of the same rows as
// decoded values, which encodes every value again.
func BenchmarkCopyFeed(b *testing.B) {
	_, pool := sharedCluster(b)
	p, data := tablesBatch(b)
	require.NoError(b, store.EnsurePartition(b.Context(), pool, p.Name, time.Now()))
	cols := StoredColumnNames(p)
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = pgx.Identifier{c}.Sanitize()
	}
	copySQL := "COPY " + store.Table(p.Name) + " (" + strings.Join(quoted, ", ") + ") FROM STDIN"
	perBatch := bytes.Count(data, []byte{'\n'})
	const batches = 10
	conn, err := pool.Acquire(b.Context())
	require.NoError(b, err)
	defer conn.Release()
	RegisterLSN(conn.Conn().TypeMap())
	b.Run("text-passthrough", func(b *testing.B) {
		rows := 0
		cpu0 := SelfCPU()
		for b.Loop() {
			readers := make([]io.Reader, batches)
			for i := range readers {
				readers[i] = bytes.NewReader(data)
			}
			tag, err := conn.Conn().PgConn().CopyFrom(b.Context(), io.MultiReader(readers...), copySQL)
			require.NoError(b, err)
			rows += int(tag.RowsAffected())
		}
		reportRows(b, rows, SelfCPU()-cpu0)
	})
	var values [][]any
	// The feed's columns, in its order: the table also has sample_kind,
	// and newer partitions store the columns in alignment order.
	rs, err := conn.Query(b.Context(), "SELECT "+strings.Join(quoted, ", ")+" FROM "+store.Table(p.Name)+" LIMIT $1", perBatch)
	require.NoError(b, err)
	values, err = pgx.CollectRows(rs, func(r pgx.CollectableRow) ([]any, error) { return r.Values() })
	require.NoError(b, err)
	b.Run("pgx-binary-values", func(b *testing.B) {
		rows := 0
		all := make([][]any, 0, batches*len(values))
		for range batches {
			all = append(all, values...)
		}
		cpu0 := SelfCPU()
		for b.Loop() {
			n, err := conn.Conn().CopyFrom(b.Context(), pgx.Identifier{store.Schema, p.Name}, cols, pgx.CopyFromRows(all))
			require.NoError(b, err)
			rows += int(n)
		}
		reportRows(b, rows, SelfCPU()-cpu0)
	})
}

// BenchmarkBatchCodec measures a batch's trip through the bus codec at the
// size of a real pg_stat_all_tables result: the headers and the s2
// compression of the body; the body is never parsed.
func BenchmarkBatchCodec(b *testing.B) {
	p, data := tablesBatch(b)
	bt := bus.Batch{ID: bus.BatchID(1, p.Name, 123456, "app1"), Kind: bus.KindRows, ConnectionID: 1, Probe: p.Name,
		Database: "app1", CollectedAt: time.Now(), Part: 0, Parts: 1, Rows: bytes.Count(data, []byte{'\n'}),
		Columns: StoredColumnNames(p), Data: data}
	b.Run("encode", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			_ = bus.EncodeBatch(bt)
		}
	})
	m := bus.EncodeBatch(bt)
	b.Run("decode", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			_, err := bus.DecodeBatch(m.Data, m.Header)
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkPartitionRouting measures what routing one batch to its weekly
// partition costs the sink: the partition name of its collection time,
// and the partition cache's answer for a partition it has seen.
func BenchmarkPartitionRouting(b *testing.B) {
	t := time.Now()
	b.Run("name", func(b *testing.B) {
		for b.Loop() {
			_ = partition.Name("pg_stat_all_tables", t)
		}
	})
	_, pool := sharedCluster(b)
	parts := store.NewPartitions(pool)
	require.NoError(b, parts.Ensure(b.Context(), "pg_stat_all_tables", t))
	b.Run("ensure-cached", func(b *testing.B) {
		for b.Loop() {
			if err := parts.Ensure(b.Context(), "pg_stat_all_tables", t); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// reportRows adds rows/s, ns/row and this process's CPU per row.
func reportRows(b *testing.B, rows int, cpu time.Duration) {
	if rows == 0 {
		b.Fatal("no rows")
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(rows), "ns/row")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(rows), "cpu-ns/row")
}
