package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/pgcollector/pgcollector/internal/config"
)

// The embedded NATS server's store must have one owner at a time: two
// servers on the same files would corrupt the buffer. `run` holds this
// lock for its lifetime; `status` takes it only when no collector holds
// it, to read the buffer of a stopped collector.
const (
	lockFile = "pgcollector.lock"
	// lockWait is how long `run` waits for the lock: long enough for a
	// `status` that briefly reads the store, short enough to fail fast
	// when another collector owns the directory.
	lockWait = 30 * time.Second
)

// errLocked means another process holds the data directory.
var errLocked = errors.New("data directory locked by another process")

// tryLockDataDir takes the lock without waiting. The lock is an flock,
// so it goes away with its process, however that process ends.
func tryLockDataDir(dir string) (unlock func(), err error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, config.Errorf("PGC_DATA_DIR", "create %s: %v", dir, err)
	}
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, config.Errorf("PGC_DATA_DIR", "open lock file: %v", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, errLocked
		}
		return nil, fmt.Errorf("lock %s: %w", f.Name(), err)
	}
	return func() { _ = f.Close() }, nil
}

// lockDataDir takes the lock for a run, waiting up to lockWait for a
// short-lived holder to let go.
func lockDataDir(ctx context.Context, dir string, log *slog.Logger) (unlock func(), err error) {
	deadline := time.Now().Add(lockWait)
	for logged := false; ; {
		unlock, err := tryLockDataDir(dir)
		if !errors.Is(err, errLocked) {
			return unlock, err
		}
		if time.Now().After(deadline) {
			return nil, config.Errorf("PGC_DATA_DIR", "%s is in use by another pgcollector process: give each "+
				"process with an embedded NATS server its own data directory, or join it with PGC_NATS_URL", dir)
		}
		if !logged {
			log.Warn("waiting for the data directory: another process holds it", "data_dir", dir)
			logged = true
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}
