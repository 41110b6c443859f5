package sink

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/bus"
)

func TestIngestSkipsWhatIsStoredAndForceReplaces(t *testing.T) {
	e := newEnv(t, catalogue)
	now := time.Now().UTC().Truncate(time.Second)
	var batches []bus.Batch
	for i := range 5 {
		batches = append(batches, serverBatch(1, int64(i), now.Add(time.Duration(i)*time.Second), 10))
	}
	dbCols := []string{"connection_id", "collected_at", "database_name", "n"}
	for part := range 2 {
		batches = append(batches, bus.Batch{ID: bus.BatchID(1, "t_db", 3, "app"), Kind: bus.KindRows, ConnectionID: 1,
			Probe: "t_db", Database: "app", CollectedAt: now, Part: part, Parts: 2, Columns: dbCols,
			Data: fmt.Appendf(nil, "1\t%s\tapp\t%d\n", now.Format(time.RFC3339Nano), part)})
	}
	// A status batch, and the connection marked failed meanwhile: a replay
	// must change neither.
	batches = append(batches, bus.Batch{ID: bus.BatchID(1, "t_server", 9, ""), Kind: bus.KindStatus, ConnectionID: 1,
		Probe: "t_server", CollectedAt: now, Reason: "old failure", ConnectionError: true})
	e.exec(`UPDATE public.connections SET connection_error = 'down now' WHERE id = 1`)

	plain, err := NewIngester(testConfig(), e.pool, e.log, false)
	require.NoError(t, err)
	res, err := plain.Ingest(e.ctx, batches)
	require.NoError(t, err)
	require.Equal(t, IngestResult{Batches: 7, Rows: 52, Statuses: 1}, res)
	require.Equal(t, 50, e.count(`SELECT count(*) FROM metrics.t_server`))
	require.Equal(t, 2, e.count(`SELECT count(*) FROM metrics.t_db`))
	require.Equal(t, 1, e.count(`SELECT count(*) FROM public.connections WHERE id = 1 AND connection_error = 'down now'`))
	require.Equal(t, 0, e.count(`SELECT count(*) FROM public.probe_state WHERE last_error = 'old failure'`))

	// Again: everything is in the ledger.
	res, err = plain.Ingest(e.ctx, batches)
	require.NoError(t, err)
	require.Equal(t, IngestResult{Duplicates: 7, Statuses: 1}, res)

	// Rows deleted behind the ledger's back come back only with force,
	// once however often it runs.
	e.exec(`DELETE FROM metrics.t_server WHERE collected_at < $1`, now.Add(2*time.Second))
	e.exec(`DELETE FROM metrics.t_db WHERE n = 1`)
	res, err = plain.Ingest(e.ctx, batches)
	require.NoError(t, err)
	require.Zero(t, res.Rows)
	require.Equal(t, 30, e.count(`SELECT count(*) FROM metrics.t_server`))

	force, err := NewIngester(testConfig(), e.pool, e.log, true)
	require.NoError(t, err)
	for range 2 {
		res, err = force.Ingest(e.ctx, batches)
		require.NoError(t, err)
		require.Equal(t, IngestResult{Batches: 7, Rows: 52, Statuses: 1}, res)
		require.Equal(t, 50, e.count(`SELECT count(*) FROM metrics.t_server`))
		require.Equal(t, 5, e.count(`SELECT count(DISTINCT collected_at) FROM metrics.t_server`))
		require.Equal(t, 2, e.count(`SELECT count(*) FROM metrics.t_db`))
		require.Equal(t, 7, e.count(`SELECT count(*) FROM public.ingest_ledger`))
	}

	// Another run of slot 0 (the fetcher crashed before acking its job)
	// lost to the one the ledger kept: force does not store it either.
	rerun := serverBatch(1, 0, now.Add(500*time.Millisecond), 10)
	res, err = force.Ingest(e.ctx, []bus.Batch{rerun})
	require.NoError(t, err)
	require.Equal(t, IngestResult{Duplicates: 1}, res)
	require.Equal(t, 50, e.count(`SELECT count(*) FROM metrics.t_server`))
}

func TestIngestIsolatesPoison(t *testing.T) {
	e := newEnv(t, catalogue)
	now := time.Now().UTC()
	good := serverBatch(1, 1, now, 3)
	bad := serverBatch(1, 2, now.Add(time.Second), 1)
	bad.Data = fmt.Appendf(nil, "1\t%s\tnot-a-number\tx\n", bad.CollectedAt.Format(time.RFC3339Nano))
	noColumns := serverBatch(1, 3, now.Add(2*time.Second), 1)
	noColumns.Columns = nil

	in, err := NewIngester(testConfig(), e.pool, e.log, false)
	require.NoError(t, err)
	res, err := in.Ingest(e.ctx, []bus.Batch{good, bad, noColumns})
	require.NoError(t, err)
	require.Equal(t, IngestResult{Batches: 1, Rows: 3, Poison: 2}, res)
	require.Equal(t, 3, e.count(`SELECT count(*) FROM metrics.t_server`))
}

func TestIngestFailsWhileTheDatastoreIsDown(t *testing.T) {
	e := newEnv(t, catalogue)
	in, err := NewIngester(testConfig(), e.pool, e.log, false)
	require.NoError(t, err)
	require.NoError(t, e.pg.Stop())
	_, err = in.Ingest(e.ctx, []bus.Batch{serverBatch(1, 1, time.Now(), 3)})
	require.ErrorContains(t, err, "write batches")
	require.NoError(t, e.pg.Restart())
}
