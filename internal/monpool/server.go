package monpool

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgcollector/pgcollector/internal/catalog"
)

// server is the session budget of one monitored server. total counts every
// open session, borrowed or idle, whatever its database and whichever
// version of the connection row it was opened with, so the cap holds even
// while sessions of an outdated row are still borrowed.
type server struct {
	m *Manager

	mu          sync.Mutex
	conn        catalog.Connection
	fingerprint string
	gen         int             // bumped when the row's connection settings change
	base        *pgx.ConnConfig // parsed settings of gen, password decrypted once
	idle        []*Session
	total       int
	busy        map[string]int // borrowed sessions per database
	retired     bool
	changed     chan struct{} // closed and replaced whenever capacity may have freed
	failures    int
	failUntil   time.Time
	lastErr     *ConnectError
}

func newServer(m *Manager, c catalog.Connection) *server {
	return &server{m: m, conn: c, fingerprint: c.Fingerprint(), changed: make(chan struct{}), busy: map[string]int{}}
}

func (s *server) signal() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// update adopts the current row. When anything used to connect changed
// (password, host, TLS files) the idle sessions are closed, borrowed ones
// close on release, and the backoff of the old settings is forgotten.
func (s *server) update(c catalog.Connection) {
	s.mu.Lock()
	s.conn = c // the name may change without affecting sessions
	fp := c.Fingerprint()
	if fp == s.fingerprint {
		s.mu.Unlock()
		return
	}
	s.fingerprint = fp
	s.gen++
	s.base = nil
	idle := s.idle
	s.idle = nil
	s.total -= len(idle)
	s.failures, s.failUntil, s.lastErr = 0, time.Time{}, nil
	s.signal()
	s.mu.Unlock()
	closeAll(idle)
}

func (s *server) acquire(ctx context.Context, database string) (*Session, error) {
	for {
		s.mu.Lock()
		if s.retired {
			s.mu.Unlock()
			return nil, errClosedServer(s.conn.Name)
		}
		if time.Now().Before(s.failUntil) {
			e := *s.lastErr
			s.mu.Unlock()
			e.Database, e.Backoff = database, true
			return nil, &e
		}
		for i := len(s.idle) - 1; i >= 0; i-- {
			if sess := s.idle[i]; sess.Database == database {
				s.idle = append(s.idle[:i], s.idle[i+1:]...)
				s.busy[database]++
				s.mu.Unlock()
				return sess, nil
			}
		}
		var victim *Session
		switch {
		case s.m.cfg.PerDatabase > 0 && s.busy[database] >= s.m.cfg.PerDatabase:
			// This database has its share of sessions, all borrowed:
			// wait for one. The database probes of a server arrive
			// together, and running them one after another on a warm
			// session costs the server less than a backend each.
			if err := s.wait(ctx); err != nil {
				return nil, err
			}
			continue
		case s.total < s.m.cfg.MaxConns:
			s.total++
		case len(s.idle) > 0 && s.busy[database] == 0:
			// The budget is full of idle sessions to other databases:
			// trade one for this database. When a session of this
			// database is only busy, waiting for it is cheaper for the
			// server than a new backend (a fork and a cold catalog
			// cache) that would replace a warm one.
			victim = s.takeVictim()
		default:
			if err := s.wait(ctx); err != nil {
				return nil, err
			}
			continue
		}
		// Counted as busy while it dials, so that the next job for this
		// database waits for it instead of opening another.
		s.busy[database]++
		conn, gen, base := s.conn, s.gen, s.base
		s.mu.Unlock()
		if victim != nil {
			closeAndWait(victim.Conn)
		}
		return s.open(ctx, conn, gen, base, database)
	}
}

// wait unlocks s.mu and waits until capacity may have freed.
func (s *server) wait(ctx context.Context) error {
	changed := s.changed
	s.mu.Unlock()
	select {
	case <-ctx.Done():
		return fmt.Errorf("wait for a session of %s (cap %d): %w", s.conn.Name, s.m.cfg.MaxConns, ctx.Err())
	case <-changed:
		return nil
	}
}

// takeVictim removes the idle session to trade for another database: the
// least recently used one of a database other than the connection's own,
// whose session serves every server probe and is worth keeping warm.
func (s *server) takeVictim() *Session {
	i := 0
	for j, sess := range s.idle {
		if sess.Database != s.conn.Database {
			i = j
			break
		}
	}
	victim := s.idle[i]
	s.idle = append(s.idle[:i], s.idle[i+1:]...)
	return victim
}

// open dials a session for a slot already counted in total.
func (s *server) open(ctx context.Context, c catalog.Connection, gen int, base *pgx.ConnConfig,
	database string) (*Session, error) {
	var err error
	if base == nil {
		// Decrypting costs a PBKDF2 derivation; do it once per version
		// of the row rather than once per session.
		base, err = s.m.connConfig(c)
	}
	var conn *pgx.Conn
	if err == nil {
		conn, err = s.m.dial(ctx, c, base, database)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.total--
		s.unbusy(database)
		s.signal()
		ce := &ConnectError{Connection: c.Name, Database: database,
			DatabaseOnly: databaseOnly(err, database, c.Database), Err: err}
		if !ce.DatabaseOnly && gen == s.gen {
			s.failures++
			s.failUntil = time.Now().Add(s.m.backoff(s.failures - 1))
			s.lastErr = ce
		}
		return nil, ce
	}
	if gen == s.gen {
		s.failures, s.failUntil, s.lastErr = 0, time.Time{}, nil
		s.base = base
	}
	return &Session{Conn: conn, Database: database, srv: s, gen: gen}, nil
}

func (s *server) release(sess *Session, broken bool) {
	s.mu.Lock()
	s.unbusy(sess.Database)
	if broken || s.retired || sess.gen != s.gen {
		// The slot is given back only once the backend is gone.
		s.mu.Unlock()
		closeAndWait(sess.Conn)
		s.mu.Lock()
		s.total--
		s.signal()
		s.mu.Unlock()
		return
	}
	sess.lastUsed = time.Now()
	s.idle = append(s.idle, sess)
	s.signal()
	s.mu.Unlock()
}

// unbusy counts one borrowed session of database less.
func (s *server) unbusy(database string) {
	if s.busy[database]--; s.busy[database] <= 0 {
		delete(s.busy, database)
	}
}

// reapIdle closes the sessions idle for longer than their database allows
// (Config.idleLimit).
func (s *server) reapIdle(now time.Time) {
	s.mu.Lock()
	var keep, drop []*Session
	for _, sess := range s.idle {
		if now.Sub(sess.lastUsed) > s.m.cfg.idleLimit(sess.Database, s.conn.Database) {
			drop = append(drop, sess)
		} else {
			keep = append(keep, sess)
		}
	}
	s.idle = keep
	s.mu.Unlock()
	closeAll(drop)
	if len(drop) > 0 {
		s.mu.Lock()
		s.total -= len(drop)
		s.signal()
		s.mu.Unlock()
	}
}

// retire closes idle sessions and makes borrowed ones close on release.
func (s *server) retire() {
	s.mu.Lock()
	s.retired = true
	idle := s.idle
	s.idle = nil
	s.mu.Unlock()
	closeAll(idle)
	s.mu.Lock()
	s.total -= len(idle)
	s.signal()
	s.mu.Unlock()
}

func closeAll(sessions []*Session) {
	for _, sess := range sessions {
		closeAndWait(sess.Conn)
	}
}
