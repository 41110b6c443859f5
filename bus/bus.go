package bus

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/semaphore"
)

const (
	// drainTimeout bounds Close: stages have stopped by then, so draining
	// only flushes what is already written.
	drainTimeout = 10 * time.Second
	// publishAckTimeout fails an async publish whose ack never comes (a
	// server restart loses it), so PublishBatch retries instead of hanging.
	publishAckTimeout = 30 * time.Second
	// A node that hangs or drops off the network closes no socket: the
	// client notices only when its pings go unanswered. nats.go's default
	// (2 min, 2 outstanding) would leave a process on a dead node for
	// up to 6 minutes; this moves it to a live one within about 20 s, for
	// one PING every 5 s.
	remotePingInterval = 5 * time.Second
	remoteMaxPingsOut  = 3
)

// Bus is the connection to JetStream, embedded or remote. Stage code uses
// only its methods and the jetstream.Consumer values it hands out, so it
// cannot tell which kind it has.
type Bus struct {
	cfg    Config
	log    *slog.Logger
	srv    *server.Server // nil when connected to an external cluster
	nc     *nats.Conn
	js     jetstream.JetStream
	closed chan struct{} // closed by the connection's ClosedHandler

	// msgLimit is the largest message (headers and body) published on
	// PGC_BATCHES, also the stream's MaxMsgSize.
	msgLimit int
	// inflight bounds the batch bytes published but not yet acknowledged,
	// over all callers: the server caps a stream's inbound queue and
	// answers 429 beyond it.
	inflight     *semaphore.Weighted
	inflightSize int64

	trim      trimmer
	closeOnce sync.Once
}

// Open starts the embedded server (NatsURL empty) or connects to the
// external cluster, then declares the streams and durable consumers. It is
// idempotent and safe when several processes open the same cluster at once.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (*Bus, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	b := &Bus{cfg: cfg, log: log, closed: make(chan struct{})}
	handlers := b.connHandlers()
	var err error
	if cfg.Embedded() {
		if b.srv, err = startEmbedded(ctx, cfg, log); err != nil {
			return nil, err
		}
		if b.nc, err = connectInProcess(b.srv, handlers); err != nil {
			shutdown(b.srv)
			return nil, err
		}
	} else {
		if cfg.SyncAlways {
			log.Warn("PGC_NATS_SYNC_ALWAYS applies only to the embedded server; configure sync_interval on the cluster instead")
		}
		if b.nc, err = connectRemote(ctx, cfg, log, handlers); err != nil {
			return nil, err
		}
	}
	b.js, err = jetstream.New(b.nc,
		jetstream.WithPublishAsyncMaxPending(4096),
		jetstream.WithPublishAsyncTimeout(publishAckTimeout))
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	b.msgLimit = int(min(b.nc.MaxPayload(), int64(cfg.BufferMaxBytes)/2))
	b.inflightSize = max(32*int64(MiB), 2*int64(b.msgLimit))
	b.inflight = semaphore.NewWeighted(b.inflightSize)
	b.trim.window, b.trim.every = cfg.ReplayWindow, trimEvery
	if err := b.declare(ctx); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// connHandlers logs each connection event once: a disconnect, the
// reconnect that ends it, and asynchronous errors. Reconnect attempts in
// between are not logged, so an outage is two lines, not thousands.
func (b *Bus) connHandlers() []nats.Option {
	var closeOnce sync.Once
	return []nats.Option{
		nats.Name("pgcollector"),
		nats.MaxReconnects(-1),
		nats.DrainTimeout(drainTimeout),
		nats.DisconnectErrHandler(func(nc *nats.Conn, err error) {
			if !nc.IsClosed() {
				b.log.Warn("NATS disconnected, reconnecting", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			b.log.Info("NATS reconnected", "url", nc.ConnectedUrlRedacted())
		}),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			subject := ""
			if sub != nil {
				subject = sub.Subject
			}
			b.log.Error("NATS asynchronous error", "subject", subject, "err", err)
		}),
		nats.ClosedHandler(func(*nats.Conn) { closeOnce.Do(func() { close(b.closed) }) }),
	}
}

// connectRemote connects to the external cluster, waiting (until ctx ends)
// for it to come up rather than failing: in a compose file or a pod the
// collector often starts first.
func connectRemote(ctx context.Context, cfg Config, log *slog.Logger, handlers []nats.Option) (*nats.Conn, error) {
	opts := append([]nats.Option{
		nats.RetryOnFailedConnect(true),
		nats.ReconnectWait(time.Second),
		nats.PingInterval(remotePingInterval),
		nats.MaxPingsOutstanding(remoteMaxPingsOut),
	}, handlers...)
	if cfg.NatsCreds != "" {
		opts = append(opts, nats.UserCredentials(cfg.NatsCreds))
	}
	if cfg.NatsTLSCA != "" {
		opts = append(opts, nats.RootCAs(cfg.NatsTLSCA))
	}
	redacted := make([]string, 0, 2)
	for _, u := range cfg.natsURLs() {
		redacted = append(redacted, redactURL(u))
	}
	nc, err := nats.Connect(strings.Join(cfg.natsURLs(), ","), opts...)
	if err != nil {
		return nil, fmt.Errorf("PGC_NATS_URL: connect to %s: %w", strings.Join(redacted, ","), err)
	}
	waiting := false
	for !nc.IsConnected() {
		if !waiting {
			log.Warn("waiting for the NATS cluster", "urls", strings.Join(redacted, ","))
			waiting = true
		}
		select {
		case <-ctx.Done():
			nc.Close()
			return nil, fmt.Errorf("PGC_NATS_URL: connect to %s: %w", strings.Join(redacted, ","), ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	log.Info("NATS connected", "url", nc.ConnectedUrlRedacted(), "max_payload", ByteSize(nc.MaxPayload()).String())
	return nc, nil
}

// Close drains the connection, then shuts the embedded server down last,
// waiting for it to finish writing. It is safe to call more than once.
func (b *Bus) Close() {
	b.closeOnce.Do(func() {
		if b.nc != nil {
			if err := b.nc.Drain(); err != nil {
				b.nc.Close()
			}
			select {
			case <-b.closed:
			case <-time.After(drainTimeout + time.Second):
				b.nc.Close()
			}
		}
		if b.srv != nil {
			shutdown(b.srv)
			b.log.Info("embedded NATS server stopped")
		}
	})
}

// JS is the JetStream handle, for the replay and status commands.
func (b *Bus) JS() jetstream.JetStream { return b.js }

// Conn is the underlying connection.
func (b *Bus) Conn() *nats.Conn { return b.nc }

// Embedded reports whether the bus runs the in-process server. It is for
// logs only: nothing should behave differently because of it.
func (b *Bus) Embedded() bool { return b.srv != nil }

// MaxPayload is the largest message the connection may publish, as the
// server announced it.
func (b *Bus) MaxPayload() int { return int(b.nc.MaxPayload()) }
