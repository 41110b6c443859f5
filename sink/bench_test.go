package sink

import (
	"io"
	"log/slog"
	"testing"
	"time"
)

// BenchmarkSink measures the whole stage: batches of 1,000 rows published
// to the embedded JetStream, written through COPY and acknowledged. Rows/s
// and CPU per row are the figures DESIGN.md's hot path is judged by.
func BenchmarkSink(b *testing.B) {
	e := newEnv(b, catalogue)
	e.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	const rowsPerBatch = 1000
	now := time.Now().UTC()
	batch := serverBatch(1, 0, now, rowsPerBatch)
	s, stop := e.start(DefaultConfig(), nil)
	b.SetBytes(int64(len(batch.Data)))
	b.ResetTimer()
	for i := range b.N {
		batch.ID = serverBatch(1, int64(i), now, 0).ID
		e.publish(batch)
	}
	for s.Stats().BatchesStored.Load() < int64(b.N) {
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*rowsPerBatch)/b.Elapsed().Seconds(), "rows/s")
	if err := stop(); err != nil {
		b.Fatal(err)
	}
}
