package sink

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/bus"

	"github.com/pgcollector/pgcollector/internal/config"
)

func TestPacer(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	p := newPacer(1000)
	p.now = func() time.Time { return now }
	require.True(t, p.limited())
	require.Zero(t, p.delay(), "nothing written yet")

	p.charge(500)
	require.Equal(t, 500*time.Millisecond, p.delay())
	p.charge(1500) // a second worker's flush queues behind the first
	require.Equal(t, 2*time.Second, p.delay())
	now = now.Add(2 * time.Second)
	require.Zero(t, p.delay())

	// An idle hour earns no credit: the next burst is paced at once.
	now = now.Add(time.Hour)
	p.charge(1000)
	require.Equal(t, time.Second, p.delay())

	unlimited := newPacer(0)
	unlimited.charge(1 << 40)
	require.False(t, unlimited.limited())
	require.Zero(t, unlimited.delay())
}

func TestOutageIsSharedByWorkers(t *testing.T) {
	o := &outage{retry: backoff{min: 100 * time.Millisecond, max: time.Second}}
	_, _, ok := o.recovered(0)
	require.False(t, ok, "no outage yet")

	d1, began := o.failed(0)
	require.True(t, began, "the first failure begins the outage")
	d2, began := o.failed(1)
	require.False(t, began, "a second worker's failure is the same outage")
	require.LessOrEqual(t, d1, 100*time.Millisecond)
	require.Greater(t, d2, 100*time.Millisecond/2, "one backoff for all workers keeps growing")

	_, naks, ok := o.recovered(5)
	require.True(t, ok)
	require.EqualValues(t, 5, naks)
	_, _, ok = o.recovered(5)
	require.False(t, ok, "recovery is reported once")
	d, _ := o.failed(5)
	require.LessOrEqual(t, d, 100*time.Millisecond, "the backoff starts over")
}

func TestConfigValidatesPacing(t *testing.T) {
	c := config.Default[Config]()
	require.Equal(t, 2, c.Workers)
	require.Zero(t, c.MaxRowsPerSecond, "unlimited by default")
	c.Workers = 0
	require.ErrorContains(t, c.Validate(), "PGC_SINK_WORKERS")
	c.Workers = maxWorkers + 1
	require.ErrorContains(t, c.Validate(), "PGC_SINK_WORKERS")
	c = config.Default[Config]()
	c.MaxRowsPerSecond = -1
	require.ErrorContains(t, c.Validate(), "PGC_SINK_MAX_ROWS_PER_SECOND")
}

// A backlog drains no faster than the configured rate, with several
// workers, and every batch is still stored exactly once.
func TestBacklogDrainIsPaced(t *testing.T) {
	e := newEnv(t, catalogue)
	// Small messages bound each fetch, and so each flush, to a few
	// thousand rows: the pacing shows between flushes.
	e.bus.Close()
	cfg := config.Default[bus.Config]()
	cfg.DataDir, cfg.MaxPayload = t.TempDir(), 64*bus.KiB
	var err error
	e.bus, err = bus.Open(e.ctx, cfg, e.log)
	require.NoError(t, err)
	t.Cleanup(e.bus.Close)

	const batches, rowsEach, rate = 40, 500, 10_000
	now := time.Now().UTC()
	for i := range batches {
		e.publish(noisyServerBatch(int64(i), now.Add(time.Duration(i)*time.Millisecond), rowsEach))
	}
	sc := testConfig()
	sc.Workers, sc.MaxRowsPerSecond = 3, rate
	sc.FlushBytes = 1 // each message is a flush
	start := time.Now()
	s, stop := e.start(sc, nil)
	e.eventually(batches*rowsEach, `SELECT count(*) FROM metrics.t_server`)
	took := time.Since(start)
	e.settled()
	t.Logf("%d rows drained in %s in %d flushes", batches*rowsEach, took, s.Stats().Flushes.Load())

	// Each worker may write one flush (at most about 128 KiB, some 3,500
	// rows here) ahead of the pacer; everything else waits for it.
	const ahead = 3 * 3500
	require.GreaterOrEqual(t, took, time.Duration(float64(batches*rowsEach-ahead)/rate*float64(time.Second)),
		"drain of %d rows at %d rows/s", batches*rowsEach, rate)
	require.Greater(t, s.Stats().Flushes.Load(), int64(3), "the backlog went in several flushes")
	require.EqualValues(t, batches, s.Stats().BatchesStored.Load())
	require.Equal(t, batches, e.count(`SELECT count(*) FROM public.ingest_ledger`))
	require.NoError(t, stop())
}

// noisyServerBatch is serverBatch with random labels, which s2 barely
// shrinks: a fetch is bounded by compressed bytes, so well-compressed rows
// would put several times more rows in each flush than this test counts.
func noisyServerBatch(slot int64, at time.Time, n int) bus.Batch {
	b := serverBatch(1, slot, at, n)
	r := rand.New(rand.NewPCG(uint64(slot), 7))
	var data strings.Builder
	for i := range n {
		fmt.Fprintf(&data, "1\t%s\t%d\t%016x%016x\n", at.Format(time.RFC3339Nano), i, r.Uint64(), r.Uint64())
	}
	b.Data = []byte(data.String())
	return b
}

// A crash in one worker stops the others before they acknowledge
// anything more, as the death of the process would.
func TestWorkerCrashStopsTheSink(t *testing.T) {
	e := newEnv(t, catalogue)
	now := time.Now().UTC()
	for i := range 4 {
		e.publish(serverBatch(1, int64(i), now.Add(time.Duration(i)*time.Second), 10))
	}
	errCrash := errors.New("crash after commit")
	cfg := testConfig()
	cfg.Workers = 4
	s, stop := e.start(cfg, func() error { return errCrash })
	require.Eventually(t, func() bool { return e.count(`SELECT count(*) FROM metrics.t_server`) > 0 },
		10*time.Second, 10*time.Millisecond)
	require.ErrorIs(t, stop(), errCrash)
	require.Zero(t, s.Stats().BatchesStored.Load(), "nothing acknowledged")
	c, err := e.bus.Batches(e.ctx)
	require.NoError(t, err)
	info, err := c.Info(e.ctx)
	require.NoError(t, err)
	require.Zero(t, info.AckFloor.Stream, "no message acknowledged")
}

// A fetch is bounded by wire bytes, and compressed batches bring several
// times PGC_SINK_FLUSH_BYTES of text in one fetch: the flushes still hold
// at most about that much, the rest waits compressed, and every batch is
// stored once.
func TestFlushesStayWithinFlushBytes(t *testing.T) {
	e := newEnv(t, catalogue)
	const batches, rowsEach = 30, 2000
	now := time.Now().UTC()
	var text int
	for i := range batches {
		b := serverBatch(1, int64(i), now.Add(time.Duration(i)*time.Millisecond), rowsEach)
		text += len(b.Data)
		e.publish(b)
	}
	sc := testConfig()
	sc.Workers = 1
	sc.FlushBytes = bus.ByteSize(text / 10) // three batches a flush
	s, stop := e.start(sc, nil)
	e.eventually(batches*rowsEach, `SELECT count(*) FROM metrics.t_server`)
	e.settled()
	require.GreaterOrEqual(t, s.Stats().Flushes.Load(), int64(10), "%d bytes of text within %s a flush", text, sc.FlushBytes)
	require.Positive(t, s.Stats().LargestFlush.Load())
	require.LessOrEqual(t, s.Stats().LargestFlush.Load(), int64(sc.FlushBytes), "no flush decoded more than the cap")
	require.EqualValues(t, batches, s.Stats().BatchesStored.Load())
	require.Equal(t, batches, e.count(`SELECT count(*) FROM public.ingest_ledger`))
	require.NoError(t, stop())
}
