package sink

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/bus"
	"github.com/pgcollector/pgcollector/probes"
)

func TestEndToEnd(t *testing.T) {
	e := newEnv(t, catalogue)
	s, stop := e.start(testConfig(), nil)
	now := time.Now().UTC()

	// Ten server batches from two connections, a database-scoped batch in
	// two parts, and status batches.
	var batches []bus.Batch
	for i := range 10 {
		batches = append(batches, serverBatch(int64(1+i%2), int64(i), now.Add(time.Duration(i)*time.Second), 100))
	}
	e.publish(batches...)
	dbID := bus.BatchID(1, "t_db", 7, "app")
	for part, data := range []string{"1\t%s\tapp\t1\n1\t%[1]s\tapp\t2\n", "1\t%s\tapp\t3"} {
		e.publishRaw(bus.Batch{ID: dbID, Kind: bus.KindRows, ConnectionID: 1, Probe: "t_db", Database: "app",
			CollectedAt: now, Part: part, Parts: 2, Columns: []string{"connection_id", "collected_at", "database_name", "n"},
			Data: fmt.Appendf(nil, data, now.Format(time.RFC3339Nano))}, fmt.Sprintf("db#%d", part))
	}
	e.publish(
		bus.Batch{ID: bus.BatchID(2, "t_db", 7, "app"), Kind: bus.KindStatus, ConnectionID: 2, Probe: "t_db",
			Database: "app", CollectedAt: now, Unavailable: true, Reason: "view missing"},
		bus.Batch{ID: bus.BatchID(2, "t_server", 99, ""), Kind: bus.KindStatus, ConnectionID: 2, Probe: "t_server",
			CollectedAt: now, Reason: "statement timeout"},
		// A connection that was removed meanwhile: its rows are stored,
		// its state is not.
		serverBatch(77, 1, now, 1),
	)

	e.eventually(1001, `SELECT count(*) FROM metrics.t_server`)
	e.eventually(3, `SELECT count(*) FROM metrics.t_db WHERE database_name = 'app'`)
	info := e.settled()
	require.EqualValues(t, 15, info.AckFloor.Stream, "every message acknowledged")
	require.Equal(t, 13, e.count(`SELECT count(*) FROM public.ingest_ledger`))
	require.Equal(t, 1, e.count(`SELECT count(*) FROM metrics.t_server WHERE value = 42 AND label = 'label 42' AND connection_id = 1
		AND collected_at = $1`, now.Round(time.Microsecond)))

	// State: last success per (connection, database, probe), availability
	// and the failure.
	var lastSuccess time.Time
	require.NoError(t, e.pool.QueryRow(e.ctx, `SELECT last_success FROM public.probe_state
		WHERE connection_id = 2 AND database_name = '' AND probe = 't_server'`).Scan(&lastSuccess))
	require.True(t, lastSuccess.Equal(now.Add(9*time.Second).Round(time.Microsecond)), "last success %s", lastSuccess)
	require.Equal(t, 1, e.count(`SELECT count(*) FROM public.probe_state WHERE connection_id = 2 AND probe = 't_server'
		AND last_error = 'statement timeout' AND last_error_at IS NOT NULL`))
	require.Equal(t, 1, e.count(`SELECT count(*) FROM public.probe_availability WHERE connection_id = 2 AND database_name = 'app'
		AND probe = 't_db' AND NOT available AND reason = 'view missing'`))
	require.Equal(t, 1, e.count(`SELECT count(*) FROM public.probe_availability WHERE connection_id = 1 AND database_name = 'app'
		AND probe = 't_db' AND available AND reason IS NULL`))
	require.Equal(t, 0, e.count(`SELECT count(*) FROM public.probe_state WHERE connection_id = 77`))

	st := s.Stats()
	require.EqualValues(t, 13, st.BatchesStored.Load())
	require.EqualValues(t, 1004, st.RowsStored.Load())
	require.EqualValues(t, 2, st.StatusesStored.Load())
	require.Zero(t, st.Poison.Load()+st.Naks.Load()+st.Duplicates.Load())

	// The same batches again under new message ids, as a replay or a
	// fetcher retry past the duplicate window would send them.
	for i, b := range batches {
		e.publishRaw(b, fmt.Sprintf("again-%d", i))
	}
	e.publishRaw(bus.Batch{ID: dbID, Kind: bus.KindRows, ConnectionID: 1, Probe: "t_db", Database: "app",
		CollectedAt: now, Part: 1, Parts: 2, Columns: []string{"connection_id", "collected_at", "database_name", "n"},
		Data: fmt.Appendf(nil, "1\t%s\tapp\t3\n", now.Format(time.RFC3339Nano))}, "db-again")
	require.Eventually(t, func() bool { return st.Duplicates.Load() == 11 }, 30*time.Second, 20*time.Millisecond)
	e.settled()
	require.Equal(t, 1001, e.count(`SELECT count(*) FROM metrics.t_server`))
	require.Equal(t, 3, e.count(`SELECT count(*) FROM metrics.t_db`))
	require.NoError(t, stop())
}

func TestChangeTrackedSnapshots(t *testing.T) {
	e := newEnv(t, catalogue)
	s, stop := e.start(testConfig(), nil)
	cols := []string{"connection_id", "collected_at", "name", "setting"}
	snap := func(slot int64, at time.Time, hash string, part, parts int, settings ...string) bus.Batch {
		var b strings.Builder
		for _, kv := range settings {
			k, v, _ := strings.Cut(kv, "=")
			fmt.Fprintf(&b, "1\t%s\t%s\t%s\n", at.Format(time.RFC3339Nano), k, v)
		}
		return bus.Batch{ID: bus.BatchID(1, "t_settings", slot, ""), Kind: bus.KindRows, ConnectionID: 1,
			Probe: "t_settings", CollectedAt: at, Part: part, Parts: parts, Columns: cols, Hash: hash, Data: []byte(b.String())}
	}
	t1 := time.Now().UTC().Add(-3 * time.Hour)
	t2, t3 := t1.Add(time.Hour), t1.Add(2*time.Hour)
	times := func() int {
		return e.count(`SELECT count(DISTINCT collected_at) FROM metrics.t_settings`)
	}

	// A snapshot in two parts, the second arriving in a later flush.
	e.publishRaw(snap(1, t1, "h1", 0, 2, "work_mem=4MB"), "1#0")
	e.eventually(1, `SELECT count(*) FROM metrics.t_settings`)
	e.publishRaw(snap(1, t1, "h1", 1, 2, "port=5432"), "1#1")
	e.eventually(2, `SELECT count(*) FROM metrics.t_settings`)

	// The same settings an hour later are not stored; a change is.
	e.publish(snap(2, t2, "h1", 0, 1, "work_mem=4MB", "port=5432"))
	require.Eventually(t, func() bool { return s.Stats().SnapshotsUnchanged.Load() == 1 }, 30*time.Second, 20*time.Millisecond)
	e.publish(snap(3, t3, "h2", 0, 1, "work_mem=8MB", "port=5432"))
	e.eventually(4, `SELECT count(*) FROM metrics.t_settings`)
	e.settled()
	require.Equal(t, 2, times())
	require.Equal(t, 4, e.count(`SELECT count(*) FROM public.ingest_ledger`), "an unchanged snapshot is recorded as ingested")
	var hash string
	var at time.Time
	require.NoError(t, e.pool.QueryRow(e.ctx, `SELECT hash, collected_at FROM public.snapshot_state
		WHERE connection_id = 1 AND database_name = '' AND probe = 't_settings'`).Scan(&hash, &at))
	require.Equal(t, "h2", hash)
	require.True(t, at.Equal(t3.Round(time.Microsecond)))
	require.NoError(t, stop())
}

func TestPoisonIsTerminatedGoodBatchesStored(t *testing.T) {
	e := newEnv(t, catalogue)
	// Publish everything first, so that all of it lands in one flush.
	now := time.Now().UTC()
	e.publish(serverBatch(1, 1, now, 10))
	e.publishGarbage(nil, "not a batch at all")
	e.publishGarbage(nats.Header{"Pgc-V": []string{"1"}, "Pgc-Kind": []string{"bogus"}}, "1\t2\t3\n")
	bad := serverBatch(1, 2, now.Add(time.Second), 3)
	bad.Data = fmt.Appendf(bad.Data, "1\t%s\tabc\tnot a number\n", now.Add(time.Second).Format(time.RFC3339Nano))
	e.publish(bad)
	unknownColumn := serverBatch(2, 3, now, 1)
	unknownColumn.Columns[3] = "no_such_column"
	e.publish(unknownColumn)
	unknownProbe := serverBatch(2, 4, now, 1)
	unknownProbe.Probe, unknownProbe.ID = "t_unknown", "unknown-probe"
	e.publish(unknownProbe)
	e.publish(serverBatch(2, 5, now, 20))

	s, stop := e.start(testConfig(), nil)
	e.eventually(30, `SELECT count(*) FROM metrics.t_server`)
	e.settled()
	st := s.Stats()
	require.EqualValues(t, 5, st.Poison.Load())
	require.EqualValues(t, 2, st.BatchesStored.Load())
	require.Equal(t, 2, e.count(`SELECT count(*) FROM public.ingest_ledger`))
	require.Equal(t, 0, e.count(`SELECT count(*) FROM metrics.t_server WHERE collected_at <> $1`,
		now.Round(time.Microsecond)), "no row of the poison batch is stored")

	// Terminated messages stay in the stream for inspection.
	stream, err := e.bus.JS().Stream(e.ctx, bus.StreamBatches)
	require.NoError(t, err)
	info, err := stream.Info(e.ctx)
	require.NoError(t, err)
	require.EqualValues(t, 7, info.State.Msgs)
	require.NoError(t, stop())
}

func TestRealCatalogueProbes(t *testing.T) {
	var cat []probes.Probe
	for _, name := range []string{"pg_stat_database", "pg_settings", "pg_stat_activity", "pg_stat_all_tables"} {
		p, err := probes.ByName(name)
		require.NoError(t, err)
		cat = append(cat, p)
	}
	e := newEnv(t, cat)
	s, stop := e.start(testConfig(), nil)
	want := map[string]int{}
	for _, p := range cat {
		b := e.copyProbe(p, 1)
		require.Positive(t, b.Rows, p.Name)
		if p.ChangeTracked {
			b.Hash = "some digest"
		}
		e.publish(b)
		want[p.Name] = b.Rows
	}
	e.settled()
	for _, p := range cat {
		sql := `SELECT count(*) FROM ` + pgx.Identifier{"metrics", p.Name}.Sanitize()
		if len(p.Key) > 0 {
			sql += ` WHERE sample_kind IS NULL` // not the keyframe's marker row
		}
		require.Equal(t, want[p.Name], e.count(sql), p.Name)
	}
	require.Zero(t, s.Stats().Poison.Load())
	require.NoError(t, stop())
}

// TestSplitCompressedBatchIsStoredWhole publishes a batch far larger than
// a message: it travels as s2-compressed parts and the sink stores every
// row once.
func TestSplitCompressedBatchIsStoredWhole(t *testing.T) {
	e := newEnvBus(t, catalogue, func(c *bus.Config) { c.MaxPayload = 64 * bus.KiB })
	_, stop := e.start(testConfig(), nil)
	now := time.Now().UTC()
	big := serverBatch(1, 1, now, 30_000)
	require.Greater(t, len(big.Data), 1<<20)
	e.publish(big)
	e.eventually(30_000, `SELECT count(*) FROM metrics.t_server WHERE collected_at = $1`, now.Round(time.Microsecond))
	e.settled()

	s, err := e.bus.JS().Stream(e.ctx, bus.StreamBatches)
	require.NoError(t, err)
	st := s.CachedInfo().State
	require.Greater(t, st.Msgs, uint64(16), "split into parts")
	require.Less(t, st.Bytes, uint64(len(big.Data)/2), "parts stored compressed")
	m, err := s.GetMsg(e.ctx, st.FirstSeq)
	require.NoError(t, err)
	require.Equal(t, "s2", m.Header.Get("Pgc-Encoding"))
	require.Equal(t, 1, e.count(`SELECT count(*) FROM metrics.t_server WHERE value = 29999 AND label = 'label 29999'`))
	require.NoError(t, stop())
}
