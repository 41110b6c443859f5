package bus

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/internal/config"
)

func TestOpenDeclaresStreamsAndConsumers(t *testing.T) {
	cfg := testConfig(t)
	b := openBus(t, cfg)
	ctx := testCtx(t)
	require.True(t, b.Embedded())
	require.Equal(t, int(8*MiB), b.MaxPayload())

	want := map[string]struct {
		subject   string
		retention jetstream.RetentionPolicy
		dupes     time.Duration
		maxAge    time.Duration
	}{
		StreamJobs:     {"pgc.jobs.>", jetstream.WorkQueuePolicy, 2 * time.Minute, time.Hour},
		StreamBatches:  {"pgc.batches.>", jetstream.LimitsPolicy, 2 * time.Minute, 0},
		StreamTimers:   {"pgc.timers.>", jetstream.WorkQueuePolicy, 25 * time.Hour, 0},
		StreamSchedule: {"pgc.schedule.>", jetstream.LimitsPolicy, 2 * time.Minute, 8 * 24 * time.Hour},
	}
	for name, w := range want {
		s, err := b.JS().Stream(ctx, name)
		require.NoError(t, err, name)
		c := s.CachedInfo().Config
		require.Equal(t, []string{w.subject}, c.Subjects, name)
		require.Equal(t, w.retention, c.Retention, name)
		require.Equal(t, jetstream.FileStorage, c.Storage, name)
		require.Equal(t, w.dupes, c.Duplicates, name)
		require.Equal(t, w.maxAge, c.MaxAge, name)
		require.Equal(t, 1, c.Replicas, name)
	}
	batches, err := b.JS().Stream(ctx, StreamBatches)
	require.NoError(t, err)
	bc := batches.CachedInfo().Config
	require.Equal(t, int64(cfg.BufferMaxBytes), bc.MaxBytes)
	require.Equal(t, jetstream.DiscardNew, bc.Discard)
	require.Equal(t, int32(8*MiB), bc.MaxMsgSize)

	for _, get := range []struct {
		name string
		open func() (jetstream.Consumer, error)
		ack  time.Duration
		pend int
		max  int
	}{
		{ConsumerFetcher, func() (jetstream.Consumer, error) { return b.Jobs(ctx) }, time.Minute, 512, 5},
		{ConsumerSink, func() (jetstream.Consumer, error) { return b.Batches(ctx) }, time.Minute, 4096, -1},
		{ConsumerRetention, func() (jetstream.Consumer, error) { return b.Timers(ctx) }, 10 * time.Minute, 1000, -1},
	} {
		c, err := get.open()
		require.NoError(t, err, get.name)
		cc := c.CachedInfo().Config
		require.Equal(t, get.name, cc.Durable)
		require.Equal(t, jetstream.AckExplicitPolicy, cc.AckPolicy, get.name)
		require.Equal(t, get.ack, cc.AckWait, get.name)
		require.Equal(t, get.pend, cc.MaxAckPending, get.name)
		require.Equal(t, get.max, cc.MaxDeliver, get.name)
	}
}

func TestOpenTwiceOnTheSameDataDir(t *testing.T) {
	cfg := testConfig(t)
	first, err := Open(testCtx(t), cfg, testLog())
	require.NoError(t, err)
	bt := rowsBatch("1.p.1", 1000, 100)
	require.NoError(t, first.PublishBatch(testCtx(t), bt))
	first.Close()
	first.Close() // idempotent
	require.False(t, first.srv.Running())

	second := openBus(t, cfg)
	require.Equal(t, uint64(1), streamState(t, second, StreamBatches).Msgs, "the batch survived the restart")
	c, err := second.Batches(testCtx(t))
	require.NoError(t, err)
	m := fetch(t, c, 1)[0]
	got, err := DecodeBatch(m.Data(), m.Headers())
	require.NoError(t, err)
	require.Equal(t, bt.Data, got.Data)
}

// TestRemoteBusSharesTheEmbeddedServer connects further buses to an
// embedded server through PGC_NATS_LISTEN, the way other processes join,
// all at once: they see the same streams and consumers and each other's
// messages, which is all stage code can observe.
func TestRemoteBusSharesTheEmbeddedServer(t *testing.T) {
	cfg := testConfig(t)
	cfg.NatsListen = "127.0.0.1:0"
	host := openBus(t, cfg)
	url := host.srv.ClientURL()

	remote := make([]*Bus, 4)
	errs := make([]error, len(remote))
	var wg sync.WaitGroup
	for i := range remote {
		wg.Go(func() {
			rc := config.Default[Config]()
			rc.NatsURL = url
			rc.BufferMaxBytes = cfg.BufferMaxBytes
			remote[i], errs[i] = Open(testCtx(t), rc, testLog())
		})
	}
	wg.Wait()
	for i, r := range remote {
		require.NoError(t, errs[i])
		t.Cleanup(r.Close)
		require.False(t, r.Embedded())
		require.Equal(t, host.MaxPayload(), r.MaxPayload())
	}

	ctx := testCtx(t)
	job := Job{ConnectionID: 3, Probe: "pg_stat_database", Slot: 42, IntervalSeconds: 60,
		ScheduledAt: time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)}
	require.NoError(t, remote[0].PublishJob(ctx, job))
	require.NoError(t, remote[1].PublishJob(ctx, job))

	c, err := host.Jobs(ctx)
	require.NoError(t, err)
	m := fetch(t, c, 1)[0]
	got, err := DecodeJob(m.Data(), m.Headers())
	require.NoError(t, err)
	require.Equal(t, job, got)
	require.NoError(t, m.Ack())

	names := func(b *Bus) []string {
		var out []string
		for n := range b.JS().StreamNames(ctx).Name() {
			out = append(out, n)
		}
		return out
	}
	require.ElementsMatch(t, []string{StreamJobs, StreamBatches, StreamTimers, StreamSchedule}, names(host))
	require.ElementsMatch(t, names(host), names(remote[2]))
	rc, err := remote[3].Jobs(ctx)
	require.NoError(t, err)
	require.Equal(t, c.CachedInfo().Name, rc.CachedInfo().Name)
}

func TestOpenFailsOnBadConfig(t *testing.T) {
	cfg := testConfig(t)
	cfg.StreamReplicas = 3
	_, err := Open(testCtx(t), cfg, testLog())
	require.ErrorContains(t, err, "PGC_STREAM_REPLICAS")
}

func TestCloseStopsTheEmbeddedServer(t *testing.T) {
	b, err := Open(testCtx(t), testConfig(t), testLog())
	require.NoError(t, err)
	b.Close()
	require.True(t, b.Conn().IsClosed())
	require.False(t, b.srv.Running())
	b.Close()
}

func TestOpenFailsWhenTheListenAddressIsTaken(t *testing.T) {
	cfg := testConfig(t)
	cfg.NatsListen = "127.0.0.1:0"
	first := openBus(t, cfg)
	taken := testConfig(t)
	taken.NatsListen = strings.TrimPrefix(first.srv.ClientURL(), "nats://")
	_, err := Open(testCtx(t), taken, testLog())
	require.ErrorContains(t, err, "PGC_NATS_LISTEN")
}
