package sink

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/pgcollector/pgcollector/bus"
	"github.com/pgcollector/pgcollector/internal/pgtest"
	"github.com/pgcollector/pgcollector/internal/store"
	"github.com/pgcollector/pgcollector/probes"

	"github.com/pgcollector/pgcollector/internal/config"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// catalogue is a small hand-made catalogue: a server probe, a
// database-scoped one and a change-tracked one.
var catalogue = []probes.Probe{
	{Name: "t_server", Scope: probes.ScopeServer, IntervalSeconds: 60, RetentionDays: 7,
		Columns: []probes.Column{{Name: "value", Type: "bigint"}, {Name: "label", Type: "text"}}},
	{Name: "t_db", Scope: probes.ScopeDatabase, IntervalSeconds: 60, RetentionDays: 7,
		Columns: []probes.Column{{Name: "n", Type: "integer"}}},
	{Name: "t_settings", Scope: probes.ScopeServer, IntervalSeconds: 3600, RetentionDays: 365, ChangeTracked: true,
		Columns: []probes.Column{{Name: "name", Type: "text"}, {Name: "setting", Type: "text"}}},
}

type env struct {
	t    testing.TB
	ctx  context.Context
	pg   *pgtest.Cluster
	pool *pgxpool.Pool
	bus  *bus.Bus
	log  *slog.Logger
}

func newEnv(t testing.TB, cat []probes.Probe) *env {
	t.Helper()
	return newEnvBus(t, cat, func(*bus.Config) {})
}

// newEnvBus is newEnv with the bus configuration changed by tune.
func newEnvBus(t testing.TB, cat []probes.Probe, tune func(*bus.Config)) *env {
	t.Helper()
	ctx := t.Context()
	e := &env{t: t, ctx: ctx, log: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	e.pg = pgtest.Start(t, pgtest.Options{})
	var err error
	e.pool, err = pgxpool.New(ctx, e.pg.DSN("postgres"))
	require.NoError(t, err)
	t.Cleanup(e.pool.Close)
	require.NoError(t, store.Migrate(ctx, e.pool, cat))
	e.exec(`INSERT INTO public.connections (id, name, host) VALUES (1, 'one', 'h1'), (2, 'two', 'h2')`)
	cfg := config.Default[bus.Config]()
	cfg.DataDir = t.TempDir()
	tune(&cfg)
	e.bus, err = bus.Open(ctx, cfg, e.log)
	require.NoError(t, err)
	t.Cleanup(e.bus.Close)
	return e
}

// testWriter sends log lines to the test log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func (e *env) exec(sql string, args ...any) {
	e.t.Helper()
	_, err := e.pool.Exec(e.ctx, sql, args...)
	require.NoError(e.t, err)
}

func (e *env) count(sql string, args ...any) int {
	e.t.Helper()
	var n int
	require.NoError(e.t, e.pool.QueryRow(e.ctx, sql, args...).Scan(&n))
	return n
}

// start runs a sink until the test ends or the returned stop is called,
// which returns Run's result.
func (e *env) start(cfg Config, hook func() error) (*Sink, func() error) {
	e.t.Helper()
	s, err := New(cfg, e.pool, e.bus, e.log)
	require.NoError(e.t, err)
	s.afterCommit = hook
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var result error
	stopped := false
	stop := func() error {
		if !stopped {
			stopped = true
			cancel()
			result = <-done
		}
		return result
	}
	e.t.Cleanup(func() { _ = stop() })
	return s, stop
}

func testConfig() Config {
	c := config.Default[Config]()
	c.FlushInterval = 50 * time.Millisecond
	c.MaxBackoff = time.Second
	return c
}

// serverBatch is a batch of t_server with n rows.
func serverBatch(conn int64, slot int64, at time.Time, n int) bus.Batch {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "%d\t%s\t%d\tlabel %d\n", conn, at.Format(time.RFC3339Nano), i, i)
	}
	return bus.Batch{
		ID: bus.BatchID(conn, "t_server", slot, ""), Kind: bus.KindRows, ConnectionID: conn, Probe: "t_server",
		CollectedAt: at, Rows: n, Columns: []string{"connection_id", "collected_at", "value", "label"},
		Data: []byte(b.String()),
	}
}

func (e *env) publish(bts ...bus.Batch) {
	e.t.Helper()
	for _, b := range bts {
		require.NoError(e.t, e.bus.PublishBatch(e.ctx, b))
	}
}

// publishRaw publishes a batch part as is, with a message id of its own so
// that JetStream's duplicate window does not hide a redelivery.
func (e *env) publishRaw(b bus.Batch, msgID string) {
	e.t.Helper()
	if b.Parts == 0 {
		b.Parts = 1
	}
	m := bus.EncodeBatch(b)
	m.Header.Set(jetstream.MsgIDHeader, msgID)
	_, err := e.bus.JS().PublishMsg(e.ctx, m)
	require.NoError(e.t, err)
}

// publishGarbage publishes a message no decoder accepts.
func (e *env) publishGarbage(header nats.Header, body string) {
	e.t.Helper()
	_, err := e.bus.JS().PublishMsg(e.ctx, &nats.Msg{Subject: bus.BatchSubject("t_server"), Header: header, Data: []byte(body)})
	require.NoError(e.t, err)
}

// settled waits until the sink consumer has no message pending or
// outstanding, and returns its info.
func (e *env) settled() *jetstream.ConsumerInfo {
	e.t.Helper()
	var info *jetstream.ConsumerInfo
	require.Eventually(e.t, func() bool {
		c, err := e.bus.Batches(e.ctx)
		require.NoError(e.t, err)
		info, err = c.Info(e.ctx)
		require.NoError(e.t, err)
		return info.NumPending == 0 && info.NumAckPending == 0 && info.NumRedelivered == 0
	}, 30*time.Second, 20*time.Millisecond)
	return info
}

// eventually waits until sql counts want.
func (e *env) eventually(want int, sql string, args ...any) {
	e.t.Helper()
	require.Eventually(e.t, func() bool { return e.count(sql, args...) == want }, 30*time.Second, 20*time.Millisecond,
		"waiting for %d from %s", want, sql)
}
