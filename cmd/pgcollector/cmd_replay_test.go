package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/bus"
)

func TestReplayRange(t *testing.T) {
	now := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	f, err := replayRange(now, 30*time.Minute, "")
	require.NoError(t, err)
	require.Equal(t, now.Add(-30*time.Minute), f.since)
	require.True(t, f.until.IsZero())

	f, err = replayRange(now, time.Hour, "10m")
	require.NoError(t, err)
	require.Equal(t, now.Add(-10*time.Minute), f.until)
	f, err = replayRange(now, time.Hour, "2026-03-04T11:30:00Z")
	require.NoError(t, err)
	require.Equal(t, now.Add(-30*time.Minute), f.until)

	for _, tc := range []struct {
		since time.Duration
		until string
	}{{0, ""}, {-time.Minute, ""}, {time.Hour, "soon"}, {time.Hour, "2h"}} {
		_, err := replayRange(now, tc.since, tc.until)
		var ue *usageError
		require.ErrorAs(t, err, &ue, "since %s until %q", tc.since, tc.until)
	}
}

func TestReplayFilter(t *testing.T) {
	now := time.Now()
	f := replayFilter{since: now.Add(-time.Hour), until: now.Add(-time.Minute), connection: 7}
	b := bus.Batch{ConnectionID: 7, CollectedAt: now.Add(-30 * time.Minute)}
	require.True(t, f.wants(b))
	b.ConnectionID = 8
	require.False(t, f.wants(b), "other connection")
	b.ConnectionID, b.CollectedAt = 7, now.Add(-2*time.Hour)
	require.False(t, f.wants(b), "before since")
	b.CollectedAt = now
	require.False(t, f.wants(b), "after until")
	f.connection, f.until = 0, time.Time{}
	b.ConnectionID = 99
	require.True(t, f.wants(b), "any connection, up to now")
}

func TestAssemblerHoldsPartsUntilComplete(t *testing.T) {
	at := time.Now()
	part := func(id string, i, n int, t time.Time) bus.Batch {
		return bus.Batch{ID: id, Part: i, Parts: n, CollectedAt: t}
	}
	var a assembler
	require.Len(t, a.add(part("whole", 0, 1, at)), 1)
	require.Empty(t, a.add(part("split", 1, 3, at)))
	require.Empty(t, a.add(part("split", 0, 3, at)))
	require.Empty(t, a.add(part("split", 0, 3, at)), "a part seen twice counts once")
	// Another run of the same slot is another batch.
	require.Empty(t, a.add(part("split", 2, 3, at.Add(time.Second))))
	require.Len(t, a.add(part("split", 2, 3, at)), 3)
	rest := a.incomplete()
	require.Len(t, rest, 1)
	require.True(t, rest[0].CollectedAt.Equal(at.Add(time.Second)))
	require.Empty(t, a.incomplete())
}

func TestListenClientURL(t *testing.T) {
	for listen, want := range map[string]string{
		"127.0.0.1:4222": "nats://127.0.0.1:4222",
		"0.0.0.0:4222":   "nats://127.0.0.1:4222",
		":4222":          "nats://127.0.0.1:4222",
		"[::]:4222":      "nats://127.0.0.1:4222",
		"10.0.0.5:5000":  "nats://10.0.0.5:5000",
		"127.0.0.1:0":    "",
		"":               "",
	} {
		got, ok := listenClientURL(listen)
		require.Equal(t, want != "", ok, listen)
		require.Equal(t, want, got, listen)
	}
}

// A collector holding PGC_DATA_DIR without PGC_NATS_LISTEN: replay must not
// open the store a second time, and says why.
func TestReplayRefusesAStoreInUse(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("PGC_DATA_DIR", dir)
	t.Setenv("PGC_DATASTORE_URL", "postgres://nobody@127.0.0.1:1/none")
	t.Setenv("PGC_NATS_LISTEN", "")

	code, out, errOut := runCLI(t, "", "replay", "--since", "1h")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "nothing to replay", "no store was ever created here")

	require.NoError(t, os.MkdirAll(filepath.Join(dir, "jetstream"), 0o750))
	unlock, err := tryLockDataDir(dir)
	require.NoError(t, err)
	defer unlock()
	code, _, errOut = runCLI(t, "", "replay", "--since", "1h")
	require.Equal(t, 1, code, errOut)
	require.Contains(t, errOut, "in use by a running pgcollector")
	require.Contains(t, errOut, "PGC_NATS_LISTEN")
}
