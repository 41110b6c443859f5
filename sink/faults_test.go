package sink

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/bus"
	"github.com/pgcollector/pgcollector/probes"
)

func TestDatastoreOutage(t *testing.T) {
	e := newEnv(t, catalogue)
	s, stop := e.start(testConfig(), nil)
	now := time.Now().UTC()
	e.publish(serverBatch(1, 0, now, 10))
	e.eventually(10, `SELECT count(*) FROM metrics.t_server`)
	e.settled()

	require.NoError(t, e.pg.Stop())
	for i := 1; i <= 20; i++ {
		e.publish(serverBatch(1, int64(i), now.Add(time.Duration(i)*time.Second), 10))
	}
	require.Eventually(t, func() bool { return s.Stats().Naks.Load() >= 40 }, 30*time.Second, 20*time.Millisecond,
		"the sink retries the batches while the datastore is down")
	c, err := e.bus.Batches(e.ctx)
	require.NoError(t, err)
	info, err := c.Info(e.ctx)
	require.NoError(t, err)
	require.EqualValues(t, 1, info.AckFloor.Stream, "nothing acknowledged during the outage")
	require.Zero(t, s.Stats().Poison.Load())

	require.NoError(t, e.pg.Restart())
	e.eventually(210, `SELECT count(*) FROM metrics.t_server`)
	e.settled()
	require.Equal(t, 21, e.count(`SELECT count(DISTINCT collected_at) FROM metrics.t_server`))
	require.Equal(t, 21, e.count(`SELECT count(*) FROM public.ingest_ledger`))
	require.EqualValues(t, 21, s.Stats().BatchesStored.Load())
	require.NoError(t, stop())
}

func TestCrashBetweenCommitAndAck(t *testing.T) {
	e := newEnv(t, catalogue)
	// The crashed sink's messages come back after AckWait; shorten it so
	// the test does not wait a minute.
	_, err := e.bus.JS().UpdateConsumer(e.ctx, bus.StreamBatches, jetstream.ConsumerConfig{
		Durable: bus.ConsumerSink, AckPolicy: jetstream.AckExplicitPolicy, AckWait: 2 * time.Second,
		MaxAckPending: 4096, MaxDeliver: -1,
	})
	require.NoError(t, err)
	now := time.Now().UTC()
	for i := range 5 {
		e.publish(serverBatch(1, int64(i), now.Add(time.Duration(i)*time.Second), 100))
	}

	errCrash := errors.New("crash after commit")
	first, stop := e.start(testConfig(), func() error { return errCrash })
	e.eventually(500, `SELECT count(*) FROM metrics.t_server`)
	require.Eventually(t, func() bool { return errors.Is(stop(), errCrash) }, 10*time.Second, 10*time.Millisecond)
	require.Zero(t, first.Stats().BatchesStored.Load(), "counted only once acknowledged")

	second, stop := e.start(testConfig(), nil)
	require.Eventually(t, func() bool { return second.Stats().Duplicates.Load() == 5 }, 30*time.Second, 20*time.Millisecond)
	e.settled()
	require.Equal(t, 500, e.count(`SELECT count(*) FROM metrics.t_server`))
	require.Zero(t, second.Stats().BatchesStored.Load())
	require.NoError(t, stop())
}

func TestShutdownFinishesFlush(t *testing.T) {
	e := newEnv(t, catalogue)
	cfg := testConfig()
	// Nothing is due before the cancel: neither the bytes nor the time.
	cfg.FlushInterval, cfg.FlushBytes = time.Minute, 1<<30
	s, stop := e.start(cfg, nil)
	now := time.Now().UTC()
	for i := range 3 {
		e.publish(serverBatch(1, int64(i), now, 5))
	}
	require.Eventually(t, func() bool {
		c, err := e.bus.Batches(e.ctx)
		require.NoError(t, err)
		info, err := c.Info(e.ctx)
		require.NoError(t, err)
		return info.NumAckPending == 3
	}, 10*time.Second, 10*time.Millisecond, "the sink holds the batches")
	require.NoError(t, stop())
	require.Equal(t, 15, e.count(`SELECT count(*) FROM metrics.t_server`))
	require.EqualValues(t, 3, s.Stats().BatchesStored.Load())
	e.settled()
}

// copyProbe runs a probe of the real catalogue on the test server the way
// the fetcher does (COPY of its query TO STDOUT, session settings pinned)
// and returns the batch carrying those bytes unchanged.
func (e *env) copyProbe(p probes.Probe, slot int64) bus.Batch {
	t := e.t
	conn, err := e.pool.Acquire(e.ctx)
	require.NoError(t, err)
	defer conn.Release()
	var version int
	require.NoError(t, conn.QueryRow(e.ctx, `SELECT current_setting('server_version_num')::int`).Scan(&version))
	query, ok := p.QueryFor(version)
	require.True(t, ok, "no query for server version %d", version)
	_, err = conn.Exec(e.ctx, `SET TimeZone = 'UTC'; SET DateStyle = 'ISO'; SET IntervalStyle = 'postgres';
		SET extra_float_digits = 3; SET bytea_output = 'hex'`)
	require.NoError(t, err)
	now := time.Now().UTC()
	prefix := fmt.Sprintf("1::integer, '%s'::timestamptz", now.Format(time.RFC3339Nano))
	db := ""
	if p.Scope == probes.ScopeDatabase {
		prefix += ", current_database()::text"
		db = "postgres"
	}
	var buf bytes.Buffer
	ctx, cancel := context.WithTimeout(e.ctx, 30*time.Second)
	defer cancel()
	tag, err := conn.Conn().PgConn().CopyTo(ctx, &buf, fmt.Sprintf("COPY (SELECT %s, q.* FROM (%s) q) TO STDOUT", prefix, query))
	require.NoError(t, err, p.Name)
	var cols []string
	for _, c := range p.StoredColumns() {
		cols = append(cols, c.Name)
	}
	return bus.Batch{ID: bus.BatchID(1, p.Name, slot, db), Kind: bus.KindRows, ConnectionID: 1, Probe: p.Name,
		Database: db, CollectedAt: now, Rows: int(tag.RowsAffected()), Columns: cols, Data: buf.Bytes()}
}
