package sink

import (
	"bytes"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/internal/store"

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
