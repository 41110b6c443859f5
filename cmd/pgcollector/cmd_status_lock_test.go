package main

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestDataDirLockHasOneOwner(t *testing.T) {
	dir := t.TempDir()
	unlock, err := tryLockDataDir(dir)
	require.NoError(t, err)
	_, err = tryLockDataDir(dir)
	require.ErrorIs(t, err, errLocked, "a second owner, even in the same process")

	// A run waits for a short-lived holder such as status.
	released := make(chan struct{})
	go func() {
		time.Sleep(300 * time.Millisecond)
		unlock()
		close(released)
	}()
	start := time.Now()
	unlock2, err := lockDataDir(context.Background(), dir, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	<-released
	require.Less(t, time.Since(start), 5*time.Second)
	unlock2()
}
