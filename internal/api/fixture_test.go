package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/internal/access"
	"github.com/pgcollector/pgcollector/internal/api"
	"github.com/pgcollector/pgcollector/internal/config"
	"github.com/pgcollector/pgcollector/internal/pgtest"
	"github.com/pgcollector/pgcollector/internal/secret"
	"github.com/pgcollector/pgcollector/internal/store"
	"github.com/pgcollector/pgcollector/probes"
)

// canary is a password that must never come back out of the API.
const canary = "Canary-pw-7f3a9e1b"

// syncBuffer collects the API's log output across handler goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// rig is a migrated datastore, an API server over it, and three users:
// alice and bob (plain) and root (admin), each with a token.
type rig struct {
	t      *testing.T
	pool   *pgxpool.Pool
	box    *secret.Box
	srv    *httptest.Server
	log    *syncBuffer
	tokens map[string]string
	bodies []string // every response body, for the canary check
	muBody sync.Mutex
}

func newRig(t *testing.T, mutate ...func(*api.Config)) *rig {
	t.Helper()
	ctx := t.Context()
	pg := pgtest.Start(t, pgtest.Options{})
	pool, err := pgxpool.New(ctx, pg.DSN("postgres"))
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	require.NoError(t, store.Migrate(ctx, pool, probes.All))
	box, err := secret.New("api test secret")
	require.NoError(t, err)
	svc, err := access.NewService(pool, box)
	require.NoError(t, err)
	cfg := config.Default[api.Config]()
	cfg.Enabled = true
	cfg.RatePerToken, cfg.BurstPerToken = 1000, 1000
	for _, m := range mutate {
		m(&cfg)
	}
	logs := &syncBuffer{}
	lim, err := api.NewLimiter(cfg)
	require.NoError(t, err)
	a, err := api.New(cfg, svc, lim, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	require.NoError(t, err)
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	r := &rig{t: t, pool: pool, box: box, srv: srv, log: logs, tokens: map[string]string{}}
	for _, u := range []struct {
		name  string
		admin bool
	}{{"alice", false}, {"bob", false}, {"root", true}} {
		require.NoError(t, access.AddUser(ctx, pool, "test", u.name, u.admin))
		plain, _, err := access.CreateToken(ctx, pool, "test", u.name, "test", time.Hour)
		require.NoError(t, err)
		r.tokens[u.name] = plain
	}
	return r
}

// do sends a request as user ("" sends no token) and returns the status
// and the body.
func (r *rig) do(user, method, path string, body any) (int, string) {
	r.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(r.t, err)
		rd = bytes.NewReader(raw)
	}
	return r.doToken(r.tokens[user], method, path, rd)
}

func (r *rig) doToken(token, method, path string, body io.Reader) (int, string) {
	r.t.Helper()
	req, err := http.NewRequestWithContext(r.t.Context(), method, r.srv.URL+path, body)
	require.NoError(r.t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := r.srv.Client().Do(req)
	require.NoError(r.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(r.t, err)
	r.muBody.Lock()
	r.bodies = append(r.bodies, string(raw))
	r.muBody.Unlock()
	return resp.StatusCode, string(raw)
}

// create adds a connection as user and returns its id.
func (r *rig) create(user, name string, extra map[string]any) int64 {
	r.t.Helper()
	in := map[string]any{"name": name, "host": "db-" + name + ".example", "username": "monitor"}
	for k, v := range extra {
		in[k] = v
	}
	code, body := r.do(user, "POST", "/api/v1/connections", in)
	require.Equal(r.t, http.StatusCreated, code, body)
	var c struct {
		ID int64 `json:"id"`
	}
	require.NoError(r.t, json.Unmarshal([]byte(body), &c))
	return c.ID
}

// count returns one integer from the datastore.
func (r *rig) count(sql string, args ...any) int {
	r.t.Helper()
	var n int
	require.NoError(r.t, r.pool.QueryRow(r.t.Context(), sql, args...).Scan(&n))
	return n
}
