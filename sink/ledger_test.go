package sink

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Two sinks share the consumer while every batch arrives twice under
// different message ids: whichever sink gets a copy, and however the two
// transactions interleave, each batch is stored once.
func TestTwoSinksStoreEachBatchOnce(t *testing.T) {
	e := newEnv(t, catalogue)
	cfg := testConfig()
	cfg.FlushInterval = 5 * time.Millisecond // many small flushes, many interleavings
	a, stopA := e.start(cfg, nil)
	b, stopB := e.start(cfg, nil)
	now := time.Now().UTC()
	for i := range 60 {
		bt := serverBatch(int64(1+i%2), int64(i), now.Add(time.Duration(i)*time.Millisecond), 20)
		e.publishRaw(bt, fmt.Sprintf("first-%d", i))
		e.publishRaw(bt, fmt.Sprintf("second-%d", i))
	}
	e.settled()
	require.Equal(t, 1200, e.count(`SELECT count(*) FROM metrics.t_server`))
	require.Equal(t, 60, e.count(`SELECT count(*) FROM public.ingest_ledger`))
	stored := a.Stats().BatchesStored.Load() + b.Stats().BatchesStored.Load()
	dups := a.Stats().Duplicates.Load() + b.Stats().Duplicates.Load()
	require.EqualValues(t, 60, stored)
	require.EqualValues(t, 60, dups)
	require.Zero(t, a.Stats().Poison.Load()+b.Stats().Poison.Load())
	require.NoError(t, stopA())
	require.NoError(t, stopB())
}

func TestPruneLedger(t *testing.T) {
	e := newEnv(t, catalogue)
	s, err := New(testConfig(), e.pool, e.bus, e.log)
	require.NoError(t, err)
	// 12,000 expired rows (more than two chunks) and 10 recent ones.
	e.exec(`INSERT INTO public.ingest_ledger (batch_id, part, collected_at, ingested_at)
		SELECT 'old-' || i, 0, now() - interval '9 days', now() - interval '8 days' FROM generate_series(1, 12000) i`)
	e.exec(`INSERT INTO public.ingest_ledger (batch_id, part, collected_at, ingested_at)
		SELECT 'new-' || i, 0, now() - interval '9 days', now() - interval '6 days' FROM generate_series(1, 10) i`)
	n, err := s.pruneOnce(e.ctx)
	require.NoError(t, err)
	require.EqualValues(t, 12000, n)
	require.Equal(t, 10, e.count(`SELECT count(*) FROM public.ingest_ledger WHERE batch_id LIKE 'new-%'`))
	n, err = s.pruneOnce(e.ctx)
	require.NoError(t, err)
	require.Zero(t, n)
}
