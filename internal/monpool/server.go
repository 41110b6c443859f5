package monpool

import (
	"context"
	"fmt"
	"time"

	"sync"

	"github.com/pgcollector/pgcollector/internal/catalog"
)

// server is the session budget of one monitored server. total counts every
// open session, borrowed or idle, whatever its database.
type server struct {
	m           *Manager
	conn        catalog.Connection
	fingerprint string

	mu        sync.Mutex
	idle      []*Session
	total     int
	retired   bool
	changed   chan struct{} // closed and replaced whenever capacity may have freed
	failures  int
	failUntil time.Time
	lastErr   error
}

func newServer(m *Manager, c catalog.Connection) *server {
	return &server{m: m, conn: c, fingerprint: c.Fingerprint(), changed: make(chan struct{})}
}

func (s *server) signal() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *server) acquire(ctx context.Context, database string) (*Session, error) {
	for {
		s.mu.Lock()
		if s.retired {
			s.mu.Unlock()
			return nil, errClosedServer(s.conn.Name)
		}
		if time.Now().Before(s.failUntil) {
			err := s.lastErr
			s.mu.Unlock()
			return nil, fmt.Errorf("%w: %v", ErrBackoff, err)
		}
		for i := len(s.idle) - 1; i >= 0; i-- {
			if sess := s.idle[i]; sess.Database == database {
				s.idle = append(s.idle[:i], s.idle[i+1:]...)
				s.mu.Unlock()
				return sess, nil
			}
		}
		var victim *Session
		switch {
		case s.total < s.m.cfg.MaxConns:
			s.total++
		case len(s.idle) > 0:
			// The budget is full of idle sessions to other databases:
			// trade the least recently used one for this database.
			victim = s.idle[0]
			s.idle = s.idle[1:]
		default:
			wait := s.changed
			s.mu.Unlock()
			select {
			case <-ctx.Done():
				return nil, fmt.Errorf("wait for a session of %s (cap %d): %w", s.conn.Name, s.m.cfg.MaxConns, ctx.Err())
			case <-wait:
				continue
			}
		}
		s.mu.Unlock()
		if victim != nil {
			victim.Conn.Close(context.Background())
		}
		return s.open(ctx, database)
	}
}

// open dials a session for a slot already counted in total.
func (s *server) open(ctx context.Context, database string) (*Session, error) {
	conn, err := s.m.dial(ctx, s.conn, database)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.total--
		s.failures++
		s.failUntil = time.Now().Add(s.m.backoff(s.failures - 1))
		s.lastErr = err
		s.signal()
		return nil, err
	}
	s.failures, s.failUntil, s.lastErr = 0, time.Time{}, nil
	return &Session{Conn: conn, Database: database, srv: s}, nil
}

func (s *server) release(sess *Session, broken bool) {
	s.mu.Lock()
	if broken || s.retired {
		s.total--
		s.signal()
		s.mu.Unlock()
		sess.Conn.Close(context.Background())
		return
	}
	sess.lastUsed = time.Now()
	s.idle = append(s.idle, sess)
	s.signal()
	s.mu.Unlock()
}

func (s *server) reapIdle(before time.Time) {
	s.mu.Lock()
	var keep, drop []*Session
	for _, sess := range s.idle {
		if sess.lastUsed.Before(before) {
			drop = append(drop, sess)
		} else {
			keep = append(keep, sess)
		}
	}
	s.idle = keep
	s.total -= len(drop)
	if len(drop) > 0 {
		s.signal()
	}
	s.mu.Unlock()
	for _, sess := range drop {
		sess.Conn.Close(context.Background())
	}
}

// retire closes idle sessions and makes borrowed ones close on release.
func (s *server) retire() {
	s.mu.Lock()
	s.retired = true
	idle := s.idle
	s.idle = nil
	s.total -= len(idle)
	s.signal()
	s.mu.Unlock()
	for _, sess := range idle {
		sess.Conn.Close(context.Background())
	}
}
