package fleetsim

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// session is one client connection to a simulated server.
type session struct {
	s      *Sim
	c      net.Conn
	w      *bufio.Writer
	be     *pgproto3.Backend
	user   string
	key    poolKey
	fault  Fault
	cancel chan struct{}
	// timeout is the session's statement_timeout, from its startup
	// parameters, as PostgreSQL applies it.
	timeout time.Duration
	scratch []byte
}

// serve runs one connection: startup, authentication, then requests.
func (s *Sim) serve(ctx context.Context, c net.Conn) {
	ss := &session{s: s, c: c, w: bufio.NewWriterSize(c, 32<<10), be: pgproto3.NewBackend(c, c)}
	var startup *pgproto3.StartupMessage
	for startup == nil {
		msg, err := ss.be.ReceiveStartupMessage()
		if err != nil {
			return
		}
		switch m := msg.(type) {
		case *pgproto3.SSLRequest, *pgproto3.GSSEncRequest:
			if _, err := c.Write([]byte{'N'}); err != nil {
				return
			}
		case *pgproto3.CancelRequest:
			s.cancelPID(m.ProcessID)
			return
		case *pgproto3.StartupMessage:
			startup = m
		}
	}
	if !ss.login(ctx, startup.Parameters) {
		_ = ss.w.Flush()
		return
	}
	s.stats.Sessions.Add(1)
	s.stats.SessionsTotal.Add(1)
	defer s.stats.Sessions.Add(-1)
	pid := s.nextPID.Add(1)
	ss.cancel = make(chan struct{}, 1)
	s.mu.Lock()
	s.cancels[pid] = ss.cancel
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.cancels, pid)
		s.mu.Unlock()
	}()
	ss.send(&pgproto3.BackendKeyData{ProcessID: pid, SecretKey: []byte{1, 2, 3, 4}})
	ss.send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
	if ss.w.Flush() != nil {
		return
	}
	ss.requests(ctx)
}

// cancelPID wakes the session of pid if it is sleeping in a slow statement.
func (s *Sim) cancelPID(pid uint32) {
	s.mu.Lock()
	ch := s.cancels[pid]
	s.mu.Unlock()
	if ch != nil {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

func (ss *session) send(m pgproto3.BackendMessage) {
	b, err := m.Encode(ss.scratch[:0])
	if err == nil {
		_, _ = ss.w.Write(b)
		ss.scratch = b
	}
}

func (ss *session) fatal(code, msg string) {
	ss.send(&pgproto3.ErrorResponse{Severity: "FATAL", SeverityUnlocalized: "FATAL", Code: code, Message: msg})
}

// login checks the user and password and sends what a cluster sends on a
// new session; false means the connection is to be closed.
func (ss *session) login(ctx context.Context, params map[string]string) bool {
	s := ss.s
	ss.user = params["user"]
	db := params["database"]
	if db == "" {
		db = ss.user
	}
	n, ok := serverNumber(ss.user)
	if !ok {
		ss.fatal("28000", fmt.Sprintf("role %q does not exist", ss.user))
		return false
	}
	ss.fault = s.cfg.Faults[strconv.Itoa(n)]
	refuse := func() bool {
		s.stats.Faults.Add(1)
		ss.fatal("28P01", fmt.Sprintf("password authentication failed for user %q", ss.user))
		return false
	}
	if s.scram != nil {
		if err := ss.scramLogin(s.scram); errors.Is(err, errBadPassword) {
			return refuse()
		} else if err != nil {
			return false
		}
	}
	if ss.fault.Kind == FaultRefuseLogin {
		return refuse()
	}
	if ms, err := strconv.Atoi(params["statement_timeout"]); err == nil {
		ss.timeout = time.Duration(ms) * time.Millisecond
	}
	ss.key = newPoolKey((n-1)%len(s.cfg.Upstreams), db, params)
	hctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	statuses, err := s.rec.pool(ss.key).hello(hctx)
	if err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) {
			ss.fatal(pe.Code, pe.Message)
		} else {
			ss.fatal("08006", "fleetsim: "+err.Error())
		}
		return false
	}
	ss.send(&pgproto3.AuthenticationOk{})
	for k, v := range statuses {
		if k == "session_authorization" {
			v = ss.user
		}
		ss.send(&pgproto3.ParameterStatus{Name: k, Value: v})
	}
	return true
}
