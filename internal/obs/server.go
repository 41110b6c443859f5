package obs

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/pgcollector/pgcollector/internal/config"
)

// Datastore is what the server needs of the datastore pool.
type Datastore interface {
	Querier
	Ping(ctx context.Context) error
}

// Bus is what the server needs of the message bus; *bus.Bus is one.
type Bus interface {
	JS() jetstream.JetStream
	Conn() *nats.Conn
}

// listenRetry is how often a taken address is tried again: the previous
// process may still hold it for a moment during a restart.
const listenRetry = 30 * time.Second

// Server serves /metrics, /healthz, /readyz, the fleet page at / and its
// JSON under /api/. Its own handlers are read-only; changes go through a
// mounted handler (the REST API, which the page's connections panel
// calls with the user's token).
type Server struct {
	addr string
	m    *Metrics
	db   Datastore
	bus  Bus
	log  *slog.Logger

	mounts  []mount
	viewer  Viewer
	tlsCert string
	tlsKey  string
}

// mount is a handler another package serves on this server (the REST API,
// the MCP endpoint): one listener, one TLS setting, one port to open.
type mount struct {
	pattern string
	h       http.Handler
}

// NewServer checks addr (host:port) and registers the buffer backlog on
// m. It starts nothing.
func NewServer(addr string, m *Metrics, db Datastore, b Bus, log *slog.Logger) (*Server, error) {
	_, port, err := net.SplitHostPort(addr)
	if err == nil {
		_, err = strconv.ParseUint(port, 10, 16)
	}
	if err != nil {
		return nil, config.Errorf("PGC_HTTP_ADDR", "must be host:port (e.g. 127.0.0.1:9187), got %q", addr)
	}
	if m == nil || db == nil || b == nil || log == nil {
		return nil, errors.New("obs: metrics, datastore, bus and logger are required")
	}
	m.CollectBacklog(b.JS())
	return &Server{addr: addr, m: m, db: db, bus: b, log: log}, nil
}

// Handler is the server's routing, for Serve and for tests.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.m.Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		// Alive is all it says: the process runs and serves HTTP.
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.HandleFunc("GET /api/fleet", s.apiFleet)
	mux.HandleFunc("GET /api/backlog", s.apiBacklog)
	mux.HandleFunc("GET /api/series", s.apiSeries)
	for _, m := range s.mounts {
		mux.Handle(m.pattern, m.h)
	}
	mux.Handle("GET /static/", staticHandler())
	mux.HandleFunc("GET /{$}", servePage)
	return mux
}

// Mount serves h under pattern (a net/http pattern such as "/api/v1/").
// It must be called before Run.
func (s *Server) Mount(pattern string, h http.Handler) {
	s.mounts = append(s.mounts, mount{pattern: pattern, h: h})
}

// UseTLS serves HTTPS with the certificate and key files. Both are loaded
// once here, so a bad file is a configuration error at start, not a
// failure on the first request.
func (s *Server) UseTLS(certFile, keyFile string) error {
	if (certFile == "") != (keyFile == "") {
		return config.Errorf("PGC_HTTP_TLS_CERT", "PGC_HTTP_TLS_CERT and PGC_HTTP_TLS_KEY must be set together")
	}
	if certFile == "" {
		return nil
	}
	if _, err := tls.LoadX509KeyPair(certFile, keyFile); err != nil {
		return config.Errorf("PGC_HTTP_TLS_CERT", "cannot load the certificate and key: %v", err)
	}
	s.tlsCert, s.tlsKey = certFile, keyFile
	return nil
}

// Run listens on the address and serves until ctx is cancelled, then
// shuts down gracefully and returns nil. An address that cannot be bound
// is logged and tried again: the collector's work matters more than its
// page, so this never stops the process.
func (s *Server) Run(ctx context.Context) error {
	var l net.Listener
	for failing := false; ; {
		var err error
		l, err = net.Listen("tcp", s.addr)
		if err == nil {
			if failing {
				s.log.Info("HTTP server listening after all", "addr", l.Addr().String())
			}
			break
		}
		if !failing {
			s.log.Error("HTTP server cannot listen; retrying: /metrics, /healthz and the page are unavailable meanwhile",
				"addr", s.addr, "err", err, "retry_every", listenRetry)
			failing = true
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(listenRetry):
		}
	}
	return s.Serve(ctx, l)
}

// Serve serves on l until ctx is cancelled and closes it.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	endpoints := "/metrics /healthz /readyz / /api/"
	for _, m := range s.mounts {
		endpoints += " " + m.pattern
	}
	s.log.Info("HTTP server listening", "addr", l.Addr().String(), "endpoints", endpoints)
	done := make(chan error, 1)
	go func() {
		if s.tlsCert != "" {
			done <- hs.ServeTLS(l, s.tlsCert, s.tlsKey)
			return
		}
		done <- hs.Serve(l)
	}()
	select {
	case err := <-done:
		// Accepting failed for good; collection goes on without HTTP.
		s.log.Error("HTTP server stopped", "err", err)
		return nil
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		_ = hs.Close()
	}
	<-done
	return nil
}
