package bus

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/pgcollector/pgcollector/internal/config"
)

// TestMain fails the package if any test leaves a goroutine behind: every
// test closes its buses, and Close must stop the connection and the server.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testConfig is an embedded configuration storing in a fresh directory.
func testConfig(t *testing.T) Config {
	t.Helper()
	cfg := config.Default[Config]()
	cfg.DataDir = t.TempDir()
	cfg.BufferMaxBytes = 256 * MiB
	return cfg
}

// testLog keeps test output to warnings. It writes to stderr rather than
// t.Log because the server may log after a test returns.
func testLog() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func testCtx(t *testing.T) context.Context {
	t.Helper()
	// Generous: under the race detector on a busy 2-core CI machine, tens
	// of megabytes through the embedded server take a while.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// openBus opens a bus that the test's cleanup closes.
func openBus(t *testing.T, cfg Config) *Bus {
	t.Helper()
	b, err := Open(testCtx(t), cfg, testLog())
	require.NoError(t, err)
	t.Cleanup(b.Close)
	return b
}

// streamState reads a stream's current state.
func streamState(t *testing.T, b *Bus, name string) jetstream.StreamState {
	t.Helper()
	s, err := b.JS().Stream(testCtx(t), name)
	require.NoError(t, err)
	return s.CachedInfo().State
}

// fetch takes exactly n messages from c, failing the test if they do not
// arrive: Fetch with fewer available would wait out its whole max-wait.
func fetch(t *testing.T, c jetstream.Consumer, n int) []jetstream.Msg {
	t.Helper()
	out := make([]jetstream.Msg, 0, n)
	for len(out) < n {
		m, err := c.Next(jetstream.FetchMaxWait(30 * time.Second))
		require.NoError(t, err, "after %d of %d messages", len(out), n)
		out = append(out, m)
	}
	return out
}

// rowsBatch makes a rows batch whose Data is lines of about lineLen bytes
// totalling at least size bytes.
func rowsBatch(id string, size, lineLen int) Batch {
	var buf bytes.Buffer
	buf.Grow(size + lineLen)
	rows := 0
	for buf.Len() < size {
		line := fmt.Sprintf("%d\t2026-01-05 10:00:00+00\t", rows)
		buf.WriteString(line)
		buf.Write(bytes.Repeat([]byte{'x'}, max(1, lineLen-len(line)-1)))
		buf.WriteByte('\n')
		rows++
	}
	return Batch{
		ID:           id,
		Kind:         KindRows,
		ConnectionID: 7,
		Probe:        "pg_stat_all_tables",
		CollectedAt:  time.Date(2026, 1, 5, 10, 0, 0, 123456789, time.UTC),
		Parts:        1,
		Rows:         rows,
		Columns:      []string{"connection_id", "collected_at", "payload"},
		Data:         buf.Bytes(),
	}
}
