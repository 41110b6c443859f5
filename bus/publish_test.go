package bus

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/internal/config"
)

func TestPublishJobTwiceStoresOne(t *testing.T) {
	b := openBus(t, testConfig(t))
	ctx := testCtx(t)
	j := Job{ConnectionID: 1, Probe: "pg_stat_activity", Slot: 29000000, IntervalSeconds: 60, ScheduledAt: time.Now()}
	require.NoError(t, b.PublishJob(ctx, j))
	require.NoError(t, b.PublishJob(ctx, j))
	require.Equal(t, uint64(1), streamState(t, b, StreamJobs).Msgs)

	j.Slot++
	require.NoError(t, b.PublishJob(ctx, j))
	require.Equal(t, uint64(2), streamState(t, b, StreamJobs).Msgs)

	require.ErrorContains(t, b.PublishJob(ctx, Job{Probe: "a.b"}), "subject token")
}

// The scheduler learns each job's sequence, the stored one for a
// duplicate, and compares it with what the fetcher consumer has delivered
// to tell whether a pair's job still waits in the queue.
func TestJobSequenceAndDelivered(t *testing.T) {
	b := openBus(t, testConfig(t))
	ctx := testCtx(t)
	j := Job{ConnectionID: 1, Probe: "pg_stat_activity", Slot: 29000000, IntervalSeconds: 60, ScheduledAt: time.Now(), Sole: true}
	first, err := b.PublishJobSeq(ctx, j)
	require.NoError(t, err)
	again, err := b.PublishJobSeq(ctx, j)
	require.NoError(t, err)
	require.Equal(t, first, again, "a duplicate answers with the stored job's sequence")
	j.Slot++
	second, err := b.PublishJobSeq(ctx, j)
	require.NoError(t, err)
	require.Greater(t, second, first)

	delivered, err := b.JobsDelivered(ctx)
	require.NoError(t, err)
	require.Less(t, delivered, first, "nothing delivered yet")
	last, err := b.JobsLast(ctx)
	require.NoError(t, err)
	require.Equal(t, second, last, "the last job the queue accepted")

	c, err := b.Jobs(ctx)
	require.NoError(t, err)
	batch, err := c.Fetch(1, jetstream.FetchMaxWait(5*time.Second))
	require.NoError(t, err)
	for m := range batch.Messages() {
		got, err := DecodeJob(m.Data(), m.Headers())
		require.NoError(t, err)
		require.True(t, got.Sole, "Sole travels with the job")
		require.NoError(t, m.Ack())
	}
	delivered, err = b.JobsDelivered(ctx)
	require.NoError(t, err)
	require.Equal(t, first, delivered, "the first job was handed out, the second still waits")
}

func TestPublishTickTwiceStoresOne(t *testing.T) {
	b := openBus(t, testConfig(t))
	ctx := testCtx(t)
	tick := Tick{Name: "retention", Period: "2026-01-05", At: time.Date(2026, 1, 5, 0, 5, 0, 0, time.UTC)}
	require.NoError(t, b.PublishTick(ctx, tick))
	require.NoError(t, b.PublishTick(ctx, tick))
	require.Equal(t, uint64(1), streamState(t, b, StreamTimers).Msgs)

	c, err := b.Timers(ctx)
	require.NoError(t, err)
	m := fetch(t, c, 1)[0]
	got, err := DecodeTick(m.Data(), m.Headers())
	require.NoError(t, err)
	require.Equal(t, tick, got)
}

func TestBatchRoundTrip(t *testing.T) {
	b := openBus(t, testConfig(t))
	ctx := testCtx(t)
	rows := rowsBatch(BatchID(7, "pg_stat_all_tables", 99, "my db\n100%"), 64*1024, 200)
	rows.Database = "my db\n100%"
	rows.Hash = "9f86d081884c7d65"
	status := Batch{ID: "7.pg_stat_statements.99", Kind: KindStatus, ConnectionID: 7,
		Probe: "pg_stat_statements", CollectedAt: rows.CollectedAt, Parts: 1,
		Unavailable: true, Reason: "extension \"pg_stat_statements\" is not installed\n  (HINT: ✓)"}
	require.NoError(t, b.PublishBatch(ctx, rows))
	require.NoError(t, b.PublishBatch(ctx, status))
	require.NoError(t, b.PublishBatch(ctx, status), "a republished batch is a duplicate")
	require.Equal(t, uint64(2), streamState(t, b, StreamBatches).Msgs)

	c, err := b.Batches(ctx)
	require.NoError(t, err)
	for i, want := range []Batch{rows, status} {
		m := fetch(t, c, 1)[0]
		require.Equal(t, "pgc.batches."+want.Probe, m.Subject())
		got, err := DecodeBatch(m.Data(), m.Headers())
		require.NoError(t, err, i)
		if want.Data == nil {
			want.Data = []byte{}
		}
		if len(got.Data) == 0 {
			got.Data = []byte{}
		}
		require.Equal(t, want, got, i)
		require.NoError(t, m.Ack())
	}
}

func TestLargeBatchIsSplitAndReassembles(t *testing.T) {
	b := openBus(t, testConfig(t))
	ctx := testCtx(t)
	bt := rowsBatch("7.pg_stat_all_tables.5", 20_000_000, 250)
	require.NoError(t, b.PublishBatch(ctx, bt))

	st := streamState(t, b, StreamBatches)
	require.Equal(t, uint64(3), st.Msgs, "20 MB in 8 MiB messages: parts are cut by their raw size")
	require.Less(t, st.Bytes, uint64(len(bt.Data)/10), "and stored compressed")
	c, err := b.Batches(ctx)
	require.NoError(t, err)
	var data bytes.Buffer
	rows := 0
	for i, m := range fetch(t, c, int(st.Msgs)) {
		require.LessOrEqual(t, len(m.Data())+wireHeaderSize(m.Headers()), b.MaxPayload())
		require.Equal(t, "s2", m.Headers().Get("Pgc-Encoding"))
		part, err := DecodeBatch(m.Data(), m.Headers())
		require.NoError(t, err)
		require.Equal(t, bt.ID, part.ID)
		require.Equal(t, i, part.Part)
		require.Equal(t, int(st.Msgs), part.Parts)
		require.Equal(t, bt.CollectedAt, part.CollectedAt)
		require.Equal(t, byte('\n'), part.Data[len(part.Data)-1], "parts end at a row boundary")
		data.Write(part.Data)
		rows += part.Rows
		require.NoError(t, m.Ack())
	}
	require.True(t, bytes.Equal(bt.Data, data.Bytes()), "reassembled bytes differ")
	require.Equal(t, bt.Rows, rows)
}

// TestRealisticBatchSplitsIntoCompressedParts publishes realistic COPY
// text in small messages: each part is cut to fit uncompressed, sent
// compressed, and the parts decode to the original rows.
func TestRealisticBatchSplitsIntoCompressedParts(t *testing.T) {
	cfg := testConfig(t)
	cfg.MaxPayload = 64 * KiB
	b := openBus(t, cfg)
	ctx := testCtx(t)
	bt := tablesBatch(1 << 20)
	require.NoError(t, b.PublishBatch(ctx, bt))

	st := streamState(t, b, StreamBatches)
	require.Greater(t, st.Msgs, uint64(16), "1 MiB in 64 KiB messages")
	require.Less(t, st.Bytes, uint64(len(bt.Data)*3/4), "parts are stored compressed")
	c, err := b.Batches(ctx)
	require.NoError(t, err)
	var data bytes.Buffer
	rows := 0
	for i, m := range fetch(t, c, int(st.Msgs)) {
		require.LessOrEqual(t, len(m.Data())+wireHeaderSize(m.Headers()), 64*1024)
		require.Equal(t, "s2", m.Headers().Get("Pgc-Encoding"))
		part, err := DecodeBatch(m.Data(), m.Headers())
		require.NoError(t, err)
		require.Equal(t, i, part.Part)
		require.Equal(t, bt.Hash, part.Hash, "the hash is of the whole raw batch")
		require.Equal(t, part.Rows, bytes.Count(part.Data, []byte{'\n'}))
		data.Write(part.Data)
		rows += part.Rows
		require.NoError(t, m.Ack())
	}
	require.True(t, bytes.Equal(bt.Data, data.Bytes()), "reassembled bytes differ")
	require.Equal(t, bt.Rows, rows)
}

func TestSplitRejectsARowLargerThanAMessage(t *testing.T) {
	b := &Bus{msgLimit: 64 * 1024}
	bt := rowsBatch("1.p.1", 100*1024, 100*1024)
	_, err := b.splitBatch(bt)
	require.ErrorContains(t, err, "row longer than")

	bt = rowsBatch("1.p.1", 1000*1024, 100)
	msgs, err := b.splitBatch(bt)
	require.NoError(t, err)
	require.Len(t, msgs, 16)
	for _, m := range msgs {
		require.LessOrEqual(t, msgSize(m), 64*1024)
	}
}

func TestConcurrentLargePublishesShareTheWindow(t *testing.T) {
	b := openBus(t, testConfig(t))
	ctx := testCtx(t)
	var wg sync.WaitGroup
	// Four 12 MB batches (eight messages) keep more than the window in
	// flight without making the test slow under the race detector. Noise
	// does not compress, so the messages stay as large as the window needs.
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			errs[i] = b.PublishBatch(ctx, noiseBatch(fmt.Sprintf("%d.p.1", i), 12_000_000))
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, uint64(8), streamState(t, b, StreamBatches).Msgs)
}

// bufferConfig makes a 1 MiB buffer holding nine 100 KB batches.
func bufferConfig(t *testing.T) Config {
	cfg := testConfig(t)
	cfg.BufferMaxBytes = MiB
	cfg.MaxPayload = 256 * KiB
	return cfg
}

// fill publishes 100 KB batches until the buffer refuses one. Their
// bodies are noise, so compression does not change how many fit.
func fill(t *testing.T, b *Bus) (stored int, err error) {
	for i := 1; i <= 100; i++ {
		if err = b.PublishBatch(testCtx(t), noiseBatch(fmt.Sprintf("1.p.%d", i), 100_000)); err != nil {
			return i - 1, err
		}
	}
	t.Fatal("the buffer never filled")
	return 0, nil
}

func TestFullBufferRefusesAndKeepsWhatItHas(t *testing.T) {
	b := openBus(t, bufferConfig(t))
	stored, err := fill(t, b)
	require.ErrorIs(t, err, ErrBufferFull)
	require.Greater(t, stored, 5)
	require.Equal(t, uint64(stored), streamState(t, b, StreamBatches).Msgs)

	c, err := b.Batches(testCtx(t))
	require.NoError(t, err)
	for i, m := range fetch(t, c, stored) {
		got, err := DecodeBatch(m.Data(), m.Headers())
		require.NoError(t, err)
		require.Equal(t, fmt.Sprintf("1.p.%d", i+1), got.ID)
		require.Equal(t, noiseBatch(got.ID, 100_000).Data, got.Data)
	}
}

func TestFullBufferDropsOnlyAcknowledgedBatches(t *testing.T) {
	b := openBus(t, bufferConfig(t))
	stored, err := fill(t, b)
	require.ErrorIs(t, err, ErrBufferFull)

	// The sink acknowledges the first three batches only.
	c, err := b.Batches(testCtx(t))
	require.NoError(t, err)
	for _, m := range fetch(t, c, 3) {
		require.NoError(t, m.DoubleAck(testCtx(t)))
	}
	require.NoError(t, b.PublishBatch(testCtx(t), noiseBatch("2.p.1", 100_000)))

	st := streamState(t, b, StreamBatches)
	require.GreaterOrEqual(t, st.FirstSeq, uint64(2), "acknowledged batches made room")
	require.LessOrEqual(t, st.FirstSeq, uint64(4), "no unacknowledged batch was dropped")
	require.Equal(t, uint64(stored+1), st.LastSeq)

	// With nothing more acknowledged, the buffer is full again at once.
	_, err = fill(t, b)
	require.ErrorIs(t, err, ErrBufferFull)
	s, err := b.JS().Stream(testCtx(t), StreamBatches)
	require.NoError(t, err)
	for seq := uint64(4); seq <= uint64(stored); seq++ {
		_, err := s.GetMsg(testCtx(t), seq)
		require.NoError(t, err, "unacknowledged batch %d is still there", seq)
	}
}

func TestReplayWindowTrimsOnlyAcknowledgedBatches(t *testing.T) {
	cfg := testConfig(t)
	cfg.ReplayWindow = time.Millisecond
	b := openBus(t, cfg)
	b.trim.every = 0
	ctx := testCtx(t)
	for i := 1; i <= 4; i++ {
		require.NoError(t, b.PublishBatch(ctx, rowsBatch(fmt.Sprintf("1.p.%d", i), 1000, 100)))
	}
	require.Equal(t, uint64(4), streamState(t, b, StreamBatches).Msgs, "nothing acknowledged, nothing trimmed")

	c, err := b.Batches(ctx)
	require.NoError(t, err)
	for _, m := range fetch(t, c, 2) {
		require.NoError(t, m.DoubleAck(ctx))
	}
	time.Sleep(5 * time.Millisecond)
	require.NoError(t, b.PublishBatch(ctx, rowsBatch("1.p.5", 1000, 100)))
	st := streamState(t, b, StreamBatches)
	require.Equal(t, uint64(3), st.FirstSeq, "the two acknowledged batches aged out")
	require.Equal(t, uint64(3), st.Msgs)

	// The consumer goes on with the first batch it has not delivered.
	m := fetch(t, c, 1)[0]
	meta, err := m.Metadata()
	require.NoError(t, err)
	require.Equal(t, uint64(3), meta.Sequence.Stream)
}

func TestClassifyPublishErrors(t *testing.T) {
	api := func(code int, errCode jetstream.ErrorCode, desc string) error {
		return fmt.Errorf("nats: %w", &jetstream.APIError{Code: code, ErrorCode: errCode, Description: desc})
	}
	for _, tc := range []struct {
		err             error
		full, transient bool
	}{
		{api(503, 10077, "maximum bytes exceeded"), true, false},
		{api(500, 10047, "insufficient storage resources available"), true, false},
		{api(400, 10002, "resource limits exceeded for account"), true, false},
		{api(429, 10167, "too many requests"), false, true},
		{api(503, 10077, "some io error"), false, true},
		{jetstream.ErrAsyncPublishTimeout, false, true},
		{nats.ErrDisconnected, false, true},
		{api(400, 10054, "message size exceeds maximum allowed"), false, false},
		{nats.ErrMaxPayload, false, false},
	} {
		require.Equal(t, tc.full, isBufferFull(tc.err), tc.err.Error())
		require.Equal(t, tc.transient, !tc.full && isTransient(tc.err), tc.err.Error())
	}
}

func TestOpenGivesUpOnAnUnreachableClusterWhenCtxEnds(t *testing.T) {
	cfg := config.Default[Config]()
	cfg.NatsURL = "nats://user:secret@127.0.0.1:1"
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := Open(ctx, cfg, testLog())
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.ErrorContains(t, err, "PGC_NATS_URL")
	require.NotContains(t, err.Error(), "secret")
}
