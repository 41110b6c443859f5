package bus

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/internal/natstest"

	"github.com/pgcollector/pgcollector/internal/config"
)

// syncBuffer is a log sink the connection's callbacks may write to from
// their own goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestRemoteClusterLeavesFrozenNode opens the bus on a real 3-node cluster
// with replicated streams and freezes the node it is connected to. A
// frozen node closes no socket, so only pings can tell; the bus must move
// to a live node and publish again well before nats.go's default of
// several minutes, and log the disconnect and the reconnect.
func TestRemoteClusterLeavesFrozenNode(t *testing.T) {
	cluster := natstest.Start(t, natstest.Options{})
	cfg := config.Default[Config]()
	cfg.NatsURL = cluster.URL()
	cfg.StreamReplicas = 3
	cfg.BufferMaxBytes = 256 * MiB
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	b, err := Open(testCtx(t), cfg, log)
	require.NoError(t, err)
	t.Cleanup(b.Close)
	require.False(t, b.Embedded())

	s, err := b.JS().Stream(testCtx(t), StreamBatches)
	require.NoError(t, err)
	require.Equal(t, 3, s.CachedInfo().Config.Replicas)

	job := Job{ConnectionID: 1, Probe: "pg_stat_wal", Slot: 1, IntervalSeconds: 5, ScheduledAt: time.Now()}
	require.NoError(t, b.PublishJob(testCtx(t), job))

	frozen := cluster.Node(b.Conn().ConnectedServerName())
	require.NotNil(t, frozen, "connected to %q", b.Conn().ConnectedServerName())
	require.NoError(t, frozen.Freeze())
	froze := time.Now()

	// Each publish waits at most 2 s, as the scheduler's next tick would.
	deadline := froze.Add(45 * time.Second)
	for job.Slot = 2; ; job.Slot++ {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err = b.PublishJob(ctx, job)
		cancel()
		if err == nil {
			break
		}
		require.True(t, time.Now().Before(deadline), "no publish within 45 s of freezing %s: %v", frozen.Name, err)
	}
	t.Logf("published again %s after freezing %s, via %s", time.Since(froze).Round(100*time.Millisecond),
		frozen.Name, b.Conn().ConnectedServerName())
	require.NotEqual(t, frozen.Name, b.Conn().ConnectedServerName())
	out := logs.String()
	lost := strings.Index(out, "NATS disconnected")
	require.GreaterOrEqual(t, lost, 0, "the disconnect is logged:\n%s", out)
	require.Contains(t, out[lost:], "NATS reconnected", "the reconnect is logged")
	require.NoError(t, frozen.Thaw())
}

// TestRemoteClusterDeclaresWithANodeDown opens the bus for the first time
// on a 3-node cluster whose third node was just killed. Depending on what
// the cluster knows by then, creating streams of 3 replicas succeeds on
// the two live nodes, answers late or never (the new group is electing),
// or is refused with "no suitable peers for placement, peer offline".
// Open must never fail on any of these: it declares with the node down,
// or waits and finishes once the node is back.
func TestRemoteClusterDeclaresWithANodeDown(t *testing.T) {
	cluster := natstest.Start(t, natstest.Options{})
	down := cluster.Nodes[2]
	require.NoError(t, down.Kill())
	cfg := config.Default[Config]()
	cfg.NatsURL = cluster.URL() // the dead node's URL stays in the list, as in a real configuration
	cfg.StreamReplicas = 3
	cfg.BufferMaxBytes = 256 * MiB

	type result struct {
		b   *Bus
		err error
	}
	opened := make(chan result, 1)
	start := time.Now()
	go func() {
		b, err := Open(testCtx(t), cfg, testLog())
		opened <- result{b, err}
	}()
	var r result
	select {
	case r = <-opened:
		t.Logf("declared with %s down, in %s", down.Name, time.Since(start).Round(100*time.Millisecond))
	case <-time.After(25 * time.Second):
		require.NoError(t, down.Restart(testCtx(t)))
		r = <-opened
		t.Logf("declared once %s was back, %s after start", down.Name, time.Since(start).Round(100*time.Millisecond))
	}
	require.NoError(t, r.err)
	t.Cleanup(r.b.Close)
	for _, name := range []string{StreamJobs, StreamBatches, StreamTimers, StreamSchedule} {
		s, err := r.b.JS().Stream(testCtx(t), name)
		require.NoError(t, err)
		require.Equal(t, 3, s.CachedInfo().Config.Replicas, name)
	}
	require.NoError(t, r.b.PublishJob(testCtx(t), Job{ConnectionID: 1, Probe: "pg_stat_wal", Slot: 1,
		IntervalSeconds: 5, ScheduledAt: time.Now()}))
}

// TestDeclareRetryable pins which placement refusals Open waits out: an
// offline peer may come back; missing storage will not.
func TestDeclareRetryable(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&jetstream.APIError{Code: 400, ErrorCode: errCodeNoPeers, Description: "no suitable peers for placement, peer offline"}, true},
		{&jetstream.APIError{Code: 400, ErrorCode: errCodeNoPeers, Description: "no suitable peers for placement, insufficient storage"}, false},
		{&jetstream.APIError{Code: 503, ErrorCode: 10008, Description: "JetStream system temporarily unavailable"}, true},
		{context.DeadlineExceeded, true},
		{errors.New("permission denied"), false},
	} {
		require.Equal(t, tc.want, declareRetryable(fmt.Errorf("declare: %w", tc.err)), "%v", tc.err)
	}
}
