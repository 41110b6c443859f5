package fleetsim

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Stats counts what the simulator did since it started.
type Stats struct {
	Sessions         atomic.Int64 // client sessions open now
	SessionsTotal    atomic.Int64
	Requests         atomic.Int64 // requests answered (Query or Sync)
	Recorded         atomic.Int64 // of which forwarded to an upstream and recorded
	Replayed         atomic.Int64
	RowsServed       atomic.Int64 // CopyData and DataRow messages sent
	BytesServed      atomic.Int64
	Faults           atomic.Int64 // faults played
	UpstreamSessions atomic.Int64 // recording sessions opened
	Errors           atomic.Int64 // requests answered with the simulator's own error (recording failed)
}

// StatsSnapshot is Stats as JSON.
type StatsSnapshot struct {
	Sessions, SessionsTotal, Requests, Recorded, Replayed int64
	RowsServed, BytesServed, Faults, UpstreamSessions     int64
	Errors                                                int64
}

// Snapshot reads every counter.
func (s *Stats) Snapshot() StatsSnapshot {
	return StatsSnapshot{s.Sessions.Load(), s.SessionsTotal.Load(), s.Requests.Load(), s.Recorded.Load(),
		s.Replayed.Load(), s.RowsServed.Load(), s.BytesServed.Load(), s.Faults.Load(), s.UpstreamSessions.Load(),
		s.Errors.Load()}
}

// Sim is the simulator: New validates, Run serves.
type Sim struct {
	cfg   Config
	log   *slog.Logger
	ln    net.Listener
	stats Stats
	rec   *recorder
	scram *scramVerifier // nil for trust

	nextPID atomic.Uint32
	mu      sync.Mutex
	cancels map[uint32]chan struct{} // by backend pid, for CancelRequest
	conns   sync.WaitGroup
}

// New checks cfg and opens the listener (so that Addr is known before
// Run); it serves nothing yet.
func New(cfg Config, log *slog.Logger) (*Sim, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.RecheckAfter <= 0 {
		cfg.RecheckAfter = 20 * time.Second
	}
	var scram *scramVerifier
	if cfg.Password != "" {
		v, err := newScramVerifier(cfg.Password)
		if err != nil {
			return nil, err
		}
		scram = v
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, err
	}
	s := &Sim{cfg: cfg, log: log, ln: ln, scram: scram, cancels: map[uint32]chan struct{}{}}
	s.rec = newRecorder(cfg, &s.stats)
	s.nextPID.Store(100000)
	return s, nil
}

// Addr is the address the simulated servers answer on.
func (s *Sim) Addr() *net.TCPAddr { return s.ln.Addr().(*net.TCPAddr) }

// Stats returns the live counters.
func (s *Sim) Stats() *Stats { return &s.stats }

// Run serves until ctx ends; it returns nil then.
func (s *Sim) Run(ctx context.Context) error {
	if s.cfg.StatsAddr != "" {
		srv := &http.Server{Addr: s.cfg.StatsAddr, ReadHeaderTimeout: 5 * time.Second,
			Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				_ = json.NewEncoder(w).Encode(s.stats.Snapshot())
			})}
		go func() { _ = srv.ListenAndServe() }()
		defer srv.Close()
	}
	var mu sync.Mutex
	open := map[net.Conn]struct{}{}
	go func() {
		<-ctx.Done()
		_ = s.ln.Close()
		mu.Lock()
		for c := range open {
			_ = c.Close()
		}
		mu.Unlock()
	}()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				s.conns.Wait()
				return nil
			}
			s.log.Warn("fleetsim: accept", "err", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		mu.Lock()
		open[c] = struct{}{}
		mu.Unlock()
		s.conns.Add(1)
		go func() {
			defer s.conns.Done()
			s.serve(ctx, c)
			mu.Lock()
			delete(open, c)
			mu.Unlock()
			_ = c.Close()
		}()
	}
}
