package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/pgcollector/pgcollector/bus"
)

// errNoBuffer means the embedded store was never created: nothing to replay.
var errNoBuffer = errors.New("no batch buffer in PGC_DATA_DIR yet")

// openBatchStream gives replay read access to PGC_BATCHES, wherever it is:
//
//   - PGC_NATS_URL set: the cluster (or a collector's embedded server that
//     listens with PGC_NATS_LISTEN), over the network, declaring nothing;
//   - embedded and no collector running: the store in PGC_DATA_DIR, opened
//     the way `run` opens it, under the data directory's lock for the whole
//     replay, so a collector started meanwhile waits rather than opening
//     the same files;
//   - embedded and a collector running with PGC_NATS_LISTEN: its server,
//     at that address;
//   - embedded and a collector running without it: a refusal. nats-server
//     takes no lock of its own on its store directory, and two servers on
//     the same files would corrupt the buffer; pgcollector.lock is what
//     keeps them apart.
func openBatchStream(ctx context.Context, cfg bus.Config, log *slog.Logger) (jetstream.JetStream, func(), error) {
	if !cfg.Embedded() {
		return connectStream(cfg.NatsURL, cfg, "PGC_NATS_URL")
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, "jetstream")); errors.Is(err, os.ErrNotExist) {
		return nil, nil, fmt.Errorf("%w (%s)", errNoBuffer, cfg.DataDir)
	}
	unlock, err := tryLockDataDir(cfg.DataDir)
	switch {
	case errors.Is(err, errLocked):
		url, ok := listenClientURL(cfg.NatsListen)
		if !ok {
			return nil, nil, fmt.Errorf("PGC_DATA_DIR %s is in use by a running pgcollector, whose embedded NATS "+
				"server owns the buffer: opening it a second time would corrupt it. Stop the collector, or run it "+
				"with PGC_NATS_LISTEN=127.0.0.1:4222 and replay with the same setting (or PGC_NATS_URL=nats://127.0.0.1:4222)",
				cfg.DataDir)
		}
		log.Info("a running collector holds PGC_DATA_DIR: replaying through its server", "url", url)
		return connectStream(url, bus.Config{}, "PGC_NATS_LISTEN")
	case err != nil:
		return nil, nil, err
	}
	// Replay's own server serves replay alone.
	cfg.NatsListen = ""
	b, err := bus.Open(ctx, cfg, log)
	if err != nil {
		unlock()
		return nil, nil, fmt.Errorf("open the embedded buffer: %w", err)
	}
	return b.JS(), func() { b.Close(); unlock() }, nil
}

// listenClientURL turns PGC_NATS_LISTEN into the URL a client dials. A
// wildcard host is dialled on loopback; port 0 (any free port) cannot be
// known from here.
func listenClientURL(listen string) (string, bool) {
	if listen == "" {
		return "", false
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil || port == "0" || port == "" {
		return "", false
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "nats://" + net.JoinHostPort(host, port), true
}

// connectStream connects a plain client (credentials and CA from cfg) and
// checks that PGC_BATCHES is there. It does not wait for an unreachable
// server: replay is run by hand, and saying so at once is more useful.
func connectStream(url string, cfg bus.Config, setting string) (jetstream.JetStream, func(), error) {
	opts := []nats.Option{nats.Name("pgcollector-replay"), nats.Timeout(5 * time.Second)}
	if cfg.NatsCreds != "" {
		opts = append(opts, nats.UserCredentials(cfg.NatsCreds))
	}
	if cfg.NatsTLSCA != "" {
		opts = append(opts, nats.RootCAs(cfg.NatsTLSCA))
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: connect: %w", setting, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("jetstream: %w", err)
	}
	return js, nc.Close, nil
}
