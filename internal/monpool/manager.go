package monpool

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgcollector/pgcollector/internal/catalog"
	"github.com/pgcollector/pgcollector/internal/secret"
)

// Manager hands out sessions to monitored servers within each server's cap.
type Manager struct {
	cfg Config
	box *secret.Box
	log *slog.Logger

	passwords passwords

	mu      sync.Mutex
	servers map[int64]*server
	closed  bool
}

// New returns a manager. It starts nothing; call Run for idle reaping.
func New(cfg Config, box *secret.Box, log *slog.Logger) (*Manager, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if box == nil {
		return nil, errors.New("monpool: a secret box is required to decrypt passwords")
	}
	return &Manager{cfg: cfg, box: box, log: log, servers: map[int64]*server{}}, nil
}

// Session is one borrowed monitored session. Release it exactly once.
type Session struct {
	Conn     *pgx.Conn
	Database string
	srv      *server
	gen      int // the version of the connection row it was opened with
	lastUsed time.Time
}

// Release returns the session to its server's pool, or closes it when it
// is broken (an error that may have left it mid-protocol) or the
// connection row changed meanwhile.
func (s *Session) Release(broken bool) {
	s.srv.release(s, broken || s.Conn.IsClosed())
}

// serverFor returns the pool of a connection. When the row changed since
// the pool last saw it (new password, host or TLS files) the pool drops
// its sessions of the old settings but keeps counting the borrowed ones,
// so a change never lets the server exceed its cap.
func (m *Manager) serverFor(c catalog.Connection) (*server, error) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil, errors.New("monpool: closed")
	}
	srv := m.servers[c.ID]
	if srv == nil {
		srv = newServer(m, c)
		m.servers[c.ID] = srv
		m.mu.Unlock()
		return srv, nil
	}
	m.mu.Unlock()
	// Outside the manager's lock: a changed row closes the idle sessions,
	// which waits for the server to hang up.
	srv.update(c)
	return srv, nil
}

// Acquire returns a session to database on the connection's server,
// waiting at most AcquireTimeout for one to be free.
func (m *Manager) Acquire(ctx context.Context, c catalog.Connection, database string) (*Session, error) {
	srv, err := m.serverFor(c)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, m.cfg.AcquireTimeout)
	defer cancel()
	return srv.acquire(ctx, database)
}

// Forget closes the pool of a connection that is no longer monitored.
func (m *Manager) Forget(id int64) {
	m.mu.Lock()
	srv := m.servers[id]
	delete(m.servers, id)
	m.mu.Unlock()
	if srv != nil {
		srv.retire()
	}
}

// Sweep closes the pools of connections keep no longer wants (removed or
// disabled), so their sessions end now rather than at the idle timeout.
func (m *Manager) Sweep(keep func(id int64) bool) {
	m.mu.Lock()
	var gone []*server
	for id, srv := range m.servers {
		if !keep(id) {
			gone = append(gone, srv)
			delete(m.servers, id)
		}
	}
	m.mu.Unlock()
	retireAll(gone)
}

// retireAll retires pools outside the manager's lock: closing a session
// waits for its server to hang up, which must not stall other acquires.
func retireAll(pools []*server) {
	for _, srv := range pools {
		srv.retire()
	}
}

// Open reports the sessions currently open to a connection's server, idle
// ones included.
func (m *Manager) Open(id int64) int {
	m.mu.Lock()
	srv := m.servers[id]
	m.mu.Unlock()
	if srv == nil {
		return 0
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return srv.total
}

// Run closes idle sessions until ctx ends, then closes every session.
func (m *Manager) Run(ctx context.Context) error {
	t := time.NewTicker(m.cfg.reapEvery())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			m.Close()
			return nil
		case <-t.C:
			m.mu.Lock()
			pools := make([]*server, 0, len(m.servers))
			for _, srv := range m.servers {
				pools = append(pools, srv)
			}
			m.mu.Unlock()
			now := time.Now()
			for _, srv := range pools {
				srv.reapIdle(now)
			}
		}
	}
}

// Close closes every idle session and retires every pool; sessions still
// borrowed are closed when released.
func (m *Manager) Close() {
	m.mu.Lock()
	m.closed = true
	gone := make([]*server, 0, len(m.servers))
	for id, srv := range m.servers {
		gone = append(gone, srv)
		delete(m.servers, id)
	}
	m.mu.Unlock()
	retireAll(gone)
}

// backoff is the pause after n consecutive connect failures.
func (m *Manager) backoff(n int) time.Duration {
	d := time.Second << min(n, 10)
	if d > m.cfg.MaxBackoff {
		d = m.cfg.MaxBackoff
	}
	return d
}

func errClosedServer(name string) error { return fmt.Errorf("pool of %s was replaced or closed", name) }
