package fleetsim

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// poolKey is what a session's answers depend on: the cluster, the
// database and the startup parameters (formatting settings shape COPY
// text), user excluded.
type poolKey struct {
	upstream int
	database string
	params   string
}

func newPoolKey(upstream int, database string, params map[string]string) poolKey {
	var kv []string
	for k, v := range params {
		if k != "user" && k != "database" {
			kv = append(kv, k+"="+v)
		}
	}
	sort.Strings(kv)
	return poolKey{upstream, database, strings.Join(kv, "\x00")}
}

// maxUpstreamSessions bounds the recording sessions per pool key.
const maxUpstreamSessions = 4

// upstreamPool holds the recording sessions of one pool key and the
// parameter statuses its sessions report.
type upstreamPool struct {
	up    Upstream
	key   poolKey
	stats *Stats
	slots chan struct{}

	mu       sync.Mutex
	idle     []*pgconn.HijackedConn
	statuses map[string]string
	failed   error // the last connection failure, served until failedAt+10s
	failedAt time.Time
}

func newUpstreamPool(up Upstream, k poolKey, st *Stats) *upstreamPool {
	return &upstreamPool{up: up, key: k, stats: st, slots: make(chan struct{}, maxUpstreamSessions)}
}

// connect opens a recording session with the client's startup parameters.
func (p *upstreamPool) connect(ctx context.Context) (*pgconn.HijackedConn, error) {
	cfg, err := pgconn.ParseConfig(fmt.Sprintf("host=%s port=%d user=%s dbname=%s sslmode=disable",
		p.up.Host, p.up.Port, p.up.User, p.key.database))
	if err != nil {
		return nil, err
	}
	cfg.Password = p.up.Password
	for _, kv := range strings.Split(p.key.params, "\x00") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			cfg.RuntimeParams[k] = v
		}
	}
	c, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	h, err := c.Hijack()
	if err != nil {
		_ = c.Close(ctx)
		return nil, err
	}
	p.stats.UpstreamSessions.Add(1)
	return h, nil
}

// get returns an idle recording session or opens one.
func (p *upstreamPool) get(ctx context.Context) (*pgconn.HijackedConn, error) {
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		h := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return h, nil
	}
	if p.failed != nil && time.Since(p.failedAt) < 10*time.Second {
		err := p.failed
		p.mu.Unlock()
		<-p.slots
		return nil, err
	}
	p.mu.Unlock()
	h, err := p.connect(ctx)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.failed, p.failedAt = err, time.Now()
		<-p.slots
		return nil, err
	}
	if p.statuses == nil {
		p.statuses = h.ParameterStatuses
	}
	return h, nil
}

// put returns a session; a broken one is closed.
func (p *upstreamPool) put(h *pgconn.HijackedConn, broken bool) {
	p.mu.Lock()
	if broken {
		_ = h.Conn.Close()
	} else {
		p.idle = append(p.idle, h)
	}
	p.mu.Unlock()
	<-p.slots
}

// hello returns the parameter statuses a new session reports, connecting
// once when none has been seen: the error is the cluster's own (a missing
// database, say), which the client is then sent.
func (p *upstreamPool) hello(ctx context.Context) (map[string]string, error) {
	p.mu.Lock()
	st := p.statuses
	p.mu.Unlock()
	if st != nil {
		return st, nil
	}
	h, err := p.get(ctx)
	if err != nil {
		return nil, err
	}
	p.put(h, false)
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.statuses, nil
}

// forward sends request to an upstream session and records the reply up
// to ReadyForQuery. A session left in a transaction is rolled back, since
// each request may be recorded on another session.
func (p *upstreamPool) forward(ctx context.Context, request []byte) (*reply, error) {
	h, err := p.get(ctx)
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = h.Conn.SetDeadline(dl)
	} else {
		_ = h.Conn.SetDeadline(time.Now().Add(time.Minute))
	}
	rep := &reply{}
	status, err := roundTrip(h.Conn, h.Frontend, request, func(m []byte) { rep.msgs = append(rep.msgs, m) })
	rep.at = time.Now()
	if err == nil && status != 'I' {
		_, err = roundTrip(h.Conn, h.Frontend, mustEncode(&pgproto3.Query{String: "ROLLBACK"}), func([]byte) {})
	}
	p.put(h, err != nil)
	if err != nil {
		return nil, fmt.Errorf("fleetsim: record from %s:%d: %w", p.up.Host, p.up.Port, err)
	}
	return rep, nil
}

// roundTrip writes request and passes each reply message, encoded, to
// keep, until ReadyForQuery, whose status it returns.
func roundTrip(c net.Conn, fe *pgproto3.Frontend, request []byte, keep func([]byte)) (byte, error) {
	if _, err := c.Write(request); err != nil {
		return 0, err
	}
	for {
		msg, err := fe.Receive()
		if err != nil {
			return 0, err
		}
		raw, err := msg.Encode(nil)
		if err != nil {
			return 0, err
		}
		switch m := msg.(type) {
		case *pgproto3.CopyInResponse:
			return 0, errors.New("COPY FROM STDIN is not simulated")
		case *pgproto3.ReadyForQuery:
			keep(raw)
			return m.TxStatus, nil
		}
		keep(raw)
	}
}

func mustEncode(m pgproto3.Message) []byte {
	b, err := m.Encode(nil)
	if err != nil {
		panic(err)
	}
	return b
}
