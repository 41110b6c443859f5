package fetcher

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/internal/catalog"
	"github.com/pgcollector/pgcollector/internal/monpool"
)

// upRecorder keeps the ConnectionUp reports.
type upRecorder struct {
	nopObserver
	ups []string
}

func (r *upRecorder) ConnectionUp(conn string, up bool) {
	r.ups = append(r.ups, fmt.Sprintf("%s=%v", conn, up))
}

func TestServerStateChangesAreLoggedOnce(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	rec := &upRecorder{}
	f := &Fetcher{now: time.Now, health: newHealth(), obs: rec}
	conn := catalog.Connection{ID: 7, Name: "db7"}
	down := &monpool.ConnectError{Connection: "db7", Database: "postgres", Err: errors.New("connection refused")}
	backoff := &monpool.ConnectError{Connection: "db7", Database: "postgres", Backoff: true, Err: errors.New("connection refused")}
	oneDB := &monpool.ConnectError{Connection: "db7", Database: "gone", DatabaseOnly: true, Err: errors.New("database gone does not exist")}

	f.serverUp(conn, log)
	require.True(t, f.acquireFailed(conn, down, log))
	require.True(t, f.acquireFailed(conn, backoff, log))
	require.False(t, f.acquireFailed(conn, oneDB, log), "one database missing is not the server down")
	require.False(t, f.acquireFailed(conn, fmt.Errorf("wait for a session: %w", context.DeadlineExceeded), log))
	f.serverUp(conn, log)
	f.serverUp(conn, log)

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 2, buf.String())
	require.Contains(t, lines[0], "level=ERROR msg=\"monitored server unreachable")
	require.Contains(t, lines[1], "level=INFO msg=\"monitored server reachable again\"")
	require.Equal(t, []string{"db7=true", "db7=false", "db7=false", "db7=true", "db7=true"}, rec.ups)
}

func TestProbeFailuresAreLoggedWhenTheyChange(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	f := &Fetcher{now: time.Now, health: newHealth(), obs: nopObserver{}}
	k := availKey{1, "app", "pg_stat_all_tables"}
	f.probeSucceeded(k, log)
	for range 3 {
		f.probeFailed(k, errors.New("permission denied"), log)
	}
	f.probeFailed(k, errors.New("statement timeout"), log)
	f.probeSucceeded(k, log)
	f.probeSucceeded(k, log)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 3, buf.String())
	require.Contains(t, lines[0], "probe failed;")
	require.Contains(t, lines[0], "permission denied")
	require.Contains(t, lines[1], "another error")
	require.Contains(t, lines[2], "probe recovered")
}
