package sink

import (
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/bus"
	"github.com/pgcollector/pgcollector/internal/config"
	"github.com/pgcollector/pgcollector/internal/store"
	"github.com/pgcollector/pgcollector/probes"
)

// TestDeltaFilteredInPlace: a delta whose message body was compressed is
// filtered inside its own decoded buffer and keeps the same rows as the
// copy an Ingester's batch gets; the message decodes again to the whole
// run, which is what a retried write decides from.
func TestDeltaFilteredInPlace(t *testing.T) {
	e := newEnv(t, probes.All)
	d := newDeduper(config.Default[Config](), probes.All)
	m := newFleetModel(7, 1)
	start := time.Date(2026, 12, 6, 21, 3, 0, 0, time.UTC)
	pick := func(bs []bus.Batch) bus.Batch {
		for _, b := range bs {
			if b.Probe == "pg_stat_all_tables" && b.Database == "app" {
				return b
			}
		}
		t.Fatal("no pg_stat_all_tables batch of app")
		return bus.Batch{}
	}
	var runs []bus.Batch
	for r := range 2 {
		m.step()
		runs = append(runs, pick(m.batches(start.Add(time.Duration(r)*5*time.Minute), int64(r+1))))
	}
	work := func() *dedupWork {
		return &dedupWork{states: map[stateKey]*runState{}, changed: map[stateKey]bool{}, extras: map[string]*extraRows{}}
	}
	chain := func() *runState {
		st := &runState{}
		d.decide(&item{b: runs[0]}, st, work())
		require.False(t, st.at.IsZero(), "the first run starts the chain")
		return st
	}
	whole := string(runs[1].Data)
	copied := &item{b: runs[1]}
	d.decide(copied, chain(), work())
	require.True(t, copied.filtered, "the second run leaves unchanged rows out")
	require.Equal(t, whole, string(runs[1].Data), "an Ingester's batch is not written to")

	e.publishRaw(runs[1], "in-place")
	cons, err := e.bus.Batches(e.ctx)
	require.NoError(t, err)
	fetched, err := cons.Fetch(1, jetstream.FetchMaxWait(5*time.Second))
	require.NoError(t, err)
	var msgs []jetstream.Msg
	for msg := range fetched.Messages() {
		msgs = append(msgs, msg)
	}
	require.Len(t, msgs, 1)
	s, err := New(testConfig(), e.pool, e.bus, e.log)
	require.NoError(t, err)
	items := s.decode(msgs)
	require.Len(t, items, 1)
	it := items[0]
	require.True(t, it.owned(), "a compressed body is decoded into the item's own buffer")
	d.decide(it, chain(), work())
	require.False(t, it.filtered, "filtered in place, not copied")
	require.Equal(t, string(copied.data), string(it.copyData()))
	require.Less(t, len(it.b.Data), len(whole))

	require.NoError(t, it.redecode())
	require.Equal(t, whole, string(it.b.Data), "decoded again, the run is whole")
	it.release()
	require.NoError(t, msgs[0].Ack())
}

// TestRetriedDeltaDecodesAgain fails the first write of a delta after its
// rows were filtered in place (a trigger raises a serialization failure
// once, which the sink retries at once). The retry must decide from the
// whole run again: the stored series equals the full one.
func TestRetriedDeltaDecodesAgain(t *testing.T) {
	e := newEnv(t, probes.All)
	full := newDatastore(t, e.pg, e.pool, "full_series")
	fullSink := full.ingester(false, false)
	m := newFleetModel(7, 1)
	start := time.Date(2026, 12, 6, 21, 3, 0, 0, time.UTC)
	var runs [][]bus.Batch
	for r := range 3 {
		m.step()
		bs := m.batches(start.Add(time.Duration(r)*5*time.Minute), int64(r+1))
		_, err := fullSink.Ingest(e.ctx, bs)
		require.NoError(t, err)
		runs = append(runs, bs)
	}
	publish := func(bs []bus.Batch) {
		for i, b := range bs {
			e.publishRaw(b, fmt.Sprintf("%s#%d#%d", b.ID, b.Part, i))
		}
	}
	s, stop := e.start(testConfig(), nil)
	publish(runs[0])
	e.settled()

	const probe = "pg_stat_all_tables"
	e.exec(`CREATE SEQUENCE public.fail_once`)
	e.exec(`CREATE FUNCTION public.fail_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF nextval('public.fail_once') = 1 THEN
    RAISE EXCEPTION 'injected failure' USING ERRCODE = '40001';
  END IF;
  RETURN NEW;
END $$`)
	e.exec(`CREATE TRIGGER fail_once BEFORE INSERT ON ` + store.Table(probe) + ` FOR EACH ROW EXECUTE FUNCTION public.fail_once()`)
	publish(runs[1])
	publish(runs[2])
	e.settled()
	require.NoError(t, stop())
	require.Greater(t, e.count(`SELECT last_value::int FROM public.fail_once`), 1, "the trigger failed a write, and the retry got through")
	require.Positive(t, s.Stats().RowsUnchanged.Load(), "the deltas left unchanged rows out")

	dd := &datastore{t: t, pool: e.pool}
	series := `SELECT x::text FROM ` + store.SeriesFunction(probe) + `('-infinity', 'infinity') x ORDER BY 1`
	require.Equal(t, full.rows(`SELECT x::text FROM `+store.Table(probe)+` x ORDER BY 1`), dd.rows(series))
}
