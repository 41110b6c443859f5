package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// storeHeadroom is the JetStream store the embedded server may use beyond
// the batch buffer: PGC_JOBS (jobsMaxBytes), PGC_TIMERS, consumer state
// and per-block overhead. The buffer's own limit is enforced by the
// stream's MaxBytes, so this only has to keep the server-wide limit from
// being the one that bites.
const storeHeadroom = jobsMaxBytes + 256*int64(MiB)

// readyTimeout bounds the wait for the started server to take clients.
const readyTimeout = 10 * time.Second

// startEmbedded starts the in-process NATS server with JetStream storing
// under <DataDir>/jetstream. It listens on no port unless NatsListen is
// set, which lets other processes join as if it were a remote cluster.
func startEmbedded(ctx context.Context, cfg Config, log *slog.Logger) (*server.Server, error) {
	storeDir := filepath.Join(cfg.DataDir, "jetstream")
	if err := os.MkdirAll(storeDir, 0o750); err != nil {
		return nil, fmt.Errorf("PGC_DATA_DIR: create %s: %w", storeDir, err)
	}
	opts := &server.Options{
		ServerName:        "pgcollector",
		JetStream:         true,
		StoreDir:          storeDir,
		JetStreamMaxStore: int64(cfg.BufferMaxBytes) + storeHeadroom,
		SyncAlways:        cfg.SyncAlways,
		MaxPayload:        int32(cfg.MaxPayload),
		NoSigs:            true,
		DontListen:        true,
	}
	if cfg.NatsListen != "" {
		host, port, err := listenHostPort(cfg.NatsListen)
		if err != nil {
			return nil, fmt.Errorf("PGC_NATS_LISTEN: %w", err)
		}
		// The server only logs a taken port and then never becomes ready;
		// trying it first gives the operator the reason at once.
		if port > 0 {
			l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
			if err != nil {
				return nil, fmt.Errorf("PGC_NATS_LISTEN: %w", err)
			}
			_ = l.Close()
		}
		opts.DontListen, opts.Host, opts.Port = false, host, port
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("configure embedded NATS server: %w", err)
	}
	srv.SetLoggerV2(serverLogger{log.With("component", "nats-server")}, false, false, false)

	// Start recovers the stream files before it returns, which can take a
	// while for a full buffer; readiness is then a matter of milliseconds,
	// unless the listen address is taken, which never gets better.
	srv.Start()
	if !srv.ReadyForConnections(readyTimeout) {
		shutdown(srv)
		if cfg.NatsListen != "" {
			return nil, fmt.Errorf("PGC_NATS_LISTEN: embedded NATS server cannot listen on %s (see the log)", cfg.NatsListen)
		}
		return nil, errors.New("start embedded NATS server: not ready (see the log)")
	}
	if err := ctx.Err(); err != nil {
		shutdown(srv)
		return nil, fmt.Errorf("start embedded NATS server: %w", err)
	}
	if !srv.JetStreamEnabled() {
		shutdown(srv)
		return nil, errors.New("start embedded NATS server: JetStream did not start (see the nats-server log lines above)")
	}
	log.Info("embedded NATS server started", "store_dir", storeDir,
		"listen", listenURL(srv, cfg), "sync_always", cfg.SyncAlways,
		"max_payload", cfg.MaxPayload.String())
	return srv, nil
}

// listenURL is the URL other processes use to join, or "" when the server
// accepts in-process connections only.
func listenURL(srv *server.Server, cfg Config) string {
	if cfg.NatsListen == "" {
		return ""
	}
	return srv.ClientURL()
}

// connectInProcess connects to the embedded server without a socket.
func connectInProcess(srv *server.Server, handlers []nats.Option) (*nats.Conn, error) {
	opts := append([]nats.Option{nats.InProcessServer(srv)}, handlers...)
	nc, err := nats.Connect("", opts...)
	if err != nil {
		return nil, fmt.Errorf("connect to embedded NATS server: %w", err)
	}
	return nc, nil
}

func shutdown(srv *server.Server) {
	srv.Shutdown()
	srv.WaitForShutdown()
}

// serverLogger sends the embedded server's log to slog. Its notices (the
// start-up banner and the like) are debug here; warnings and errors keep
// their level, and Fatalf, which would exit the process with the server's
// own logger, is only an error: the caller sees the failure and decides.
type serverLogger struct{ log *slog.Logger }

func (l serverLogger) Noticef(format string, v ...any) { l.log.Debug(fmt.Sprintf(format, v...)) }
func (l serverLogger) Warnf(format string, v ...any)   { l.log.Warn(fmt.Sprintf(format, v...)) }
func (l serverLogger) Fatalf(format string, v ...any)  { l.log.Error(fmt.Sprintf(format, v...)) }
func (l serverLogger) Errorf(format string, v ...any)  { l.log.Error(fmt.Sprintf(format, v...)) }
func (l serverLogger) Debugf(format string, v ...any)  { l.log.Debug(fmt.Sprintf(format, v...)) }
func (l serverLogger) Tracef(format string, v ...any)  { l.log.Debug(fmt.Sprintf(format, v...)) }
