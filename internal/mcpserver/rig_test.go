package mcpserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/internal/access"
	"github.com/pgcollector/pgcollector/internal/catalog"
	"github.com/pgcollector/pgcollector/internal/mcpserver"
	"github.com/pgcollector/pgcollector/internal/pgtest"
	"github.com/pgcollector/pgcollector/internal/secret"
	"github.com/pgcollector/pgcollector/internal/store"
	"github.com/pgcollector/pgcollector/internal/tokenrate"
	"github.com/pgcollector/pgcollector/probes"
)

// rig is one migrated datastore with users alice, bob and admin (an
// admin), a token for each, and the MCP handler on an httptest server
// whose every log line is captured.
type rig struct {
	pool   *pgxpool.Pool
	svc    *access.Service
	box    *secret.Box
	url    string
	logs   *syncBuffer
	tokens map[string]string
}

var dbSeq atomic.Int64

func newRig(t testing.TB, c *pgtest.Cluster) *rig {
	t.Helper()
	ctx := t.Context()
	db := fmt.Sprintf("mcp_%d_%d", time.Now().UnixNano()%1e9, dbSeq.Add(1))
	c.Exec(t, "postgres", "CREATE DATABASE "+db)
	pool, err := pgxpool.New(ctx, c.DSN(db))
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	require.NoError(t, store.Migrate(ctx, pool, probes.All))
	box, err := secret.New("mcp-test-server-secret")
	require.NoError(t, err)
	svc, err := access.NewService(pool, box)
	require.NoError(t, err)

	r := &rig{pool: pool, svc: svc, box: box, logs: &syncBuffer{}, tokens: map[string]string{}}
	log := slog.New(slog.NewTextHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	for _, u := range []struct {
		name  string
		admin bool
	}{{"alice", false}, {"bob", false}, {"admin", true}} {
		require.NoError(t, access.AddUser(ctx, pool, "test", u.name, u.admin))
		r.tokens[u.name] = r.token(t, u.name, 0)
	}
	// A budget no test reaches by accident; TestRequestRatePerToken sets
	// its own.
	r.url = r.serve(t, 1000, 1000, log)
	return r
}

// serve puts another MCP handler on the rig's datastore with a per-token
// budget of perSecond (burst at once) and returns its URL.
func (r *rig) serve(t testing.TB, perSecond float64, burst int, log *slog.Logger) string {
	t.Helper()
	lim, err := tokenrate.New(perSecond, burst)
	require.NoError(t, err)
	ms, err := mcpserver.New(r.svc, lim, "test", log)
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle(mcpserver.Path, ms.Handler())
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return ts.URL + mcpserver.Path
}

func (r *rig) token(t testing.TB, user string, ttl time.Duration) string {
	t.Helper()
	plain, _, err := access.CreateToken(t.Context(), r.pool, "test", user, "mcp-test", ttl)
	require.NoError(t, err)
	return plain
}

// bearer adds the API token to every request of the SDK's client.
type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(req)
}

// client connects the SDK's own client over streamable HTTP as the holder
// of token.
func (r *rig) client(t *testing.T, token string) *mcp.ClientSession {
	t.Helper()
	cs, err := connect(t.Context(), r.url, token)
	require.NoError(t, err)
	t.Cleanup(func() { _ = cs.Close() })
	return cs
}

func connect(ctx context.Context, url, token string) (*mcp.ClientSession, error) {
	hc := &http.Client{Transport: bearer{token: token, next: http.DefaultTransport}, Timeout: 30 * time.Second}
	cl := mcp.NewClient(&mcp.Implementation{Name: "mcpserver-test", Version: "1"}, nil)
	return cl.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url, HTTPClient: hc, MaxRetries: -1}, nil)
}

// result is one tool call as the client saw it: its error flag, its text
// and its structured content as JSON.
type result struct {
	isError bool
	text    string
	raw     []byte
}

func call(t *testing.T, cs *mcp.ClientSession, tool string, args map[string]any) result {
	t.Helper()
	res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: tool, Arguments: args})
	require.NoError(t, err, "tools/call %s is a protocol success even when the tool fails", tool)
	var text strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			text.WriteString(tc.Text)
		}
	}
	raw, err := json.Marshal(res.StructuredContent)
	require.NoError(t, err)
	return result{isError: res.IsError, text: text.String(), raw: raw}
}

// ok calls a tool that must succeed and decodes its structured result.
func ok[T any](t *testing.T, cs *mcp.ClientSession, tool string, args map[string]any) T {
	t.Helper()
	res := call(t, cs, tool, args)
	require.False(t, res.isError, "%s: %s", tool, res.text)
	var out T
	require.NoError(t, json.Unmarshal(res.raw, &out), "%s: %s", tool, res.raw)
	return out
}

// fails calls a tool that must fail and returns its error text.
func fails(t *testing.T, cs *mcp.ClientSession, tool string, args map[string]any) string {
	t.Helper()
	res := call(t, cs, tool, args)
	require.True(t, res.isError, "%s must fail, got %s", tool, res.text)
	return res.text
}

// add creates a connection as cs's user and returns its id.
func add(t *testing.T, cs *mcp.ClientSession, name string) int64 {
	t.Helper()
	out := ok[mcpserver.ConnectionResult](t, cs, "add_connection",
		map[string]any{"name": name, "host": name + ".db.internal", "username": "pgc_monitor"})
	require.NotZero(t, out.Connection.ID)
	return out.Connection.ID
}

// snapshot is everything a failed call must leave as it was: every
// connection row (password_encrypted included) and the audit log length.
func (r *rig) snapshot(t *testing.T) string {
	t.Helper()
	cs, err := catalog.ListConnections(t.Context(), r.pool, catalog.Filter{})
	require.NoError(t, err)
	var n int
	require.NoError(t, r.pool.QueryRow(t.Context(), `SELECT count(*) FROM public.audit_log`).Scan(&n))
	b, err := json.Marshal(cs)
	require.NoError(t, err)
	return fmt.Sprintf("%s audit=%d", b, n)
}

// auditRows is every audit_log row as text, for canary checks.
func (r *rig) auditRows(t *testing.T) string {
	t.Helper()
	rows, err := r.pool.Query(t.Context(), `SELECT to_jsonb(a)::text FROM public.audit_log a ORDER BY id`)
	require.NoError(t, err)
	all, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return strings.Join(all, "\n")
}

// syncBuffer is a log sink safe for the server's goroutines.
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

func callParams(tool string, args map[string]any) *mcp.CallToolParams {
	return &mcp.CallToolParams{Name: tool, Arguments: args}
}

func itoa(id int64) string { return fmt.Sprint(id) }

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}
