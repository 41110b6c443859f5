package main

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/bus"
	"github.com/pgcollector/pgcollector/internal/e2e"
	"github.com/pgcollector/pgcollector/internal/pgtest"
)

// durableRig is the rig of the durability tests: a datastore, a monitored
// server with one connection, and `pgcollector run` as an OS process whose
// embedded NATS server listens on loopback, so the test reads PGC_BATCHES
// and the sink consumer the way an operator's nats CLI would.
type durableRig struct {
	t      *testing.T
	c      *e2e.Collector
	mon    *pgtest.Cluster
	id     int64
	listen string
	proc   *e2e.Process
	ended  []string // output of runs that ended
}

func newDurableRig(t *testing.T, vars ...string) *durableRig {
	t.Helper()
	listen := freeAddr(t)
	r := &durableRig{t: t, listen: listen}
	r.c = e2e.NewCollector(t, append([]string{"PGC_CATALOG_REFRESH=1s", "PGC_NATS_LISTEN=" + listen}, vars...)...)
	r.mon = pgtest.Start(t, pgtest.Options{})
	require.NoError(t, e2e.MonitorRole(context.Background(), r.mon, "pgc_monitor", "durable-Pw-1", "app1"))
	r.id = r.c.AddConnection(t, "mon", r.mon, "pgc_monitor", "durable-Pw-1")
	t.Cleanup(func() {
		if r.proc != nil {
			r.proc.Stop(syscall.SIGTERM, 20*time.Second)
			r.ended = append(r.ended, r.proc.Output())
		}
		if t.Failed() {
			for i, out := range r.ended {
				t.Logf("pgcollector run #%d output:\n%s", i+1, out)
			}
		}
	})
	return r
}

// start runs `pgcollector run` with extra KEY=VALUE settings, using bin
// instead of the normal build when it is not empty.
func (r *durableRig) start(bin string, vars ...string) {
	r.t.Helper()
	require.Nil(r.t, r.proc, "a collector is already running")
	env := r.c.Env
	env.Vars = append(append([]string{}, env.Vars...), vars...)
	if bin != "" {
		env.Bin = bin
	}
	p, err := env.Start(nil, "run")
	require.NoError(r.t, err)
	r.proc = p
}

// end stops the collector with sig (SIGKILL: no shutdown at all; 0: wait
// for it to end by itself) and returns its exit code.
func (r *durableRig) end(sig syscall.Signal, limit time.Duration) int {
	r.t.Helper()
	code, took := r.proc.Stop(sig, limit)
	r.ended = append(r.ended, r.proc.Output())
	r.proc = nil
	require.Less(r.t, took, limit, "the collector did not end within %s", limit)
	return code
}

// pgcollector runs one command to completion.
func (r *durableRig) pgcollector(vars []string, args ...string) (code int, stdout, stderr string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	env := r.c.Env
	env.Vars = append(append([]string{}, env.Vars...), vars...)
	return env.Run(ctx, "", args...)
}

// pause disables every probe and waits for the scheduler to notice (it
// re-reads them every PGC_CATALOG_REFRESH, 1 s here), so counts hold still.
func (r *durableRig) pause() {
	r.t.Helper()
	r.c.Exec(r.t, `UPDATE public.probes SET is_enabled = false`)
	time.Sleep(3 * time.Second)
}

// js connects to the running collector's embedded server, waiting for it
// to listen.
func (r *durableRig) js() jetstream.JetStream {
	r.t.Helper()
	return jetStreamAt(r.t, r.listen)
}

// jetStreamAt connects to the NATS server a collector runs at listen
// (PGC_NATS_LISTEN), waiting for it to listen; the connection closes when
// the test ends.
func jetStreamAt(t *testing.T, listen string) jetstream.JetStream {
	t.Helper()
	var nc *nats.Conn
	require.Eventually(t, func() bool {
		var err error
		nc, err = nats.Connect("nats://"+listen, nats.Timeout(5*time.Second))
		return err == nil
	}, time.Minute, 200*time.Millisecond, "connect to the collector's NATS server at %s", listen)
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	return js
}

// waitDrained waits until the sinks have acknowledged every batch in
// PGC_BATCHES. Batches held by a killed process come back only after the
// consumer's AckWait (60 s), hence the generous limit.
func (r *durableRig) waitDrained(js jetstream.JetStream, limit time.Duration) {
	r.t.Helper()
	var last string
	require.Eventually(r.t, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s, err := js.Stream(ctx, bus.StreamBatches)
		if err != nil {
			last = err.Error()
			return false
		}
		c, err := js.Consumer(ctx, bus.StreamBatches, bus.ConsumerSink)
		if err != nil {
			last = err.Error()
			return false
		}
		ci := c.CachedInfo()
		last = fmt.Sprintf("pending %d, ack pending %d, ack floor %d, last %d",
			ci.NumPending, ci.NumAckPending, ci.AckFloor.Stream, s.CachedInfo().State.LastSeq)
		return ci.NumPending == 0 && ci.NumAckPending == 0 && ci.AckFloor.Stream == s.CachedInfo().State.LastSeq
	}, limit, time.Second, "the sink drains PGC_BATCHES; last: %s", lazy(func() string { return last }))
}

// lazy is a part of a failure message computed when the message is
// formatted, which testify does after the condition last ran.
type lazy func() string

func (f lazy) String() string { return f() }

// requireEveryBatchStored reads every batch left in PGC_BATCHES and
// requires each rows part to be in the ingest ledger: nothing JetStream
// accepted was lost on the way to the datastore. (Batches trimmed from a
// full buffer were below the sink's ack floor, so stored too.) It returns
// how many parts it checked.
func (r *durableRig) requireEveryBatchStored(js jetstream.JetStream) int {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cons, err := js.OrderedConsumer(ctx, bus.StreamBatches, jetstream.OrderedConsumerConfig{})
	require.NoError(r.t, err)
	info, err := js.Stream(ctx, bus.StreamBatches)
	require.NoError(r.t, err)
	last := info.CachedInfo().State.LastSeq
	var ids []string
	var parts []int32
	for seq := uint64(0); seq < last; {
		m, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second))
		require.NoError(r.t, err)
		md, err := m.Metadata()
		require.NoError(r.t, err)
		seq = md.Sequence.Stream
		b, err := bus.DecodeBatch(m.Data(), m.Headers())
		require.NoError(r.t, err, "stream message %d", seq)
		if b.Kind == bus.KindRows {
			ids, parts = append(ids, b.ID), append(parts, int32(b.Part))
		}
	}
	missing := e2e.Rows[string](r.t, r.c, `SELECT k.id || '#' || k.part FROM unnest($1::text[], $2::int[]) AS k(id, part)
		WHERE NOT EXISTS (SELECT 1 FROM public.ingest_ledger l WHERE l.batch_id = k.id AND l.part = k.part)`, ids, parts)
	require.Empty(r.t, missing, "batches JetStream accepted but the datastore never got")
	return len(ids)
}

// requireNoDuplicates: no sample of pg_stat_wal or pg_stat_database is
// stored twice.
func (r *durableRig) requireNoDuplicates() {
	r.t.Helper()
	dups := e2e.Rows[string](r.t, r.c, `SELECT connection_id || ' at ' || collected_at || ': ' || count(*)
		FROM metrics.pg_stat_wal GROUP BY connection_id, collected_at HAVING count(*) > 1`)
	require.Empty(r.t, dups, "pg_stat_wal samples stored twice")
	dups = e2e.Rows[string](r.t, r.c, `SELECT connection_id || ' at ' || collected_at || ' in ' || database_name || ': ' || count(*)
		FROM metrics.pg_stat_database GROUP BY connection_id, collected_at, database_name HAVING count(*) > 1`)
	require.Empty(r.t, dups, "pg_stat_database samples stored twice")
}

// rowCounts counts the rows of the given metrics tables.
func (r *durableRig) rowCounts(tables ...string) map[string]int {
	r.t.Helper()
	out := map[string]int{}
	for _, tb := range tables {
		out[tb] = e2e.Value[int](r.t, r.c, `SELECT count(*)::int FROM metrics.`+tb)
	}
	return out
}

// samples counts the distinct pg_stat_wal collection times.
func (r *durableRig) samples() int {
	return e2e.Value[int](r.t, r.c, `SELECT count(DISTINCT collected_at)::int FROM metrics.pg_stat_wal WHERE connection_id = $1`, r.id)
}

// buildFaultBinary builds pgcollector with the pgc_faults tag, whose sink
// honours PGC_SINK_FAULT_AFTER_COMMIT (sink/fault_on.go).
func buildFaultBinary(t *testing.T) string {
	t.Helper()
	bin, err := e2e.Build(context.Background(), t.TempDir(), "pgc_faults")
	require.NoError(t, err)
	return bin
}
