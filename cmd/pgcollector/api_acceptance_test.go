package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/internal/e2e"
	"github.com/pgcollector/pgcollector/internal/pgtest"
)

// TestAcceptanceAPI runs the real binary with PGC_API_ENABLED: users and
// tokens made with the CLI, a connection added over the API with its
// password (encrypted server-side: the fetcher collects with it), samples
// and status read back over the API, the CLI seeing what the API wrote
// and the reverse, isolation between two users, and a revoked token
// refused. The password is a canary: no output of the CLI, the API or the
// collector's log holds it.
func TestAcceptanceAPI(t *testing.T) {
	ctx := context.Background()
	const password = "api-Canary-93d1"
	addr := freeAddr(t)
	base := "http://" + addr + "/api/v1"
	c := e2e.NewCollector(t, "PGC_HTTP_ADDR="+addr, "PGC_API_ENABLED=true", "PGC_CATALOG_REFRESH=1s")
	mon := pgtest.Start(t, pgtest.Options{})
	require.NoError(t, e2e.MonitorRole(ctx, mon, "pgc_monitor", password))
	c.OnlyProbes(t, 2, "pg_connectivity", "pg_stat_database")

	var printed []string
	cli := func(stdin string, args ...string) string {
		t.Helper()
		out := c.MustRun(t, stdin, args...)
		printed = append(printed, out)
		return out
	}
	cli("", "user", "add", "alice")
	cli("", "user", "add", "bob")
	aliceToken := strings.TrimSpace(cli("", "token", "create", "--user", "alice", "--name", "terraform"))
	bobToken := strings.TrimSpace(cli("", "token", "create", "--user", "bob", "--name", "laptop", "--expires", "24h"))
	require.True(t, strings.HasPrefix(aliceToken, "pgc_"), aliceToken)
	require.Contains(t, cli("", "user", "list"), "alice")

	proc := c.Start(t)
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 30*time.Second, 200*time.Millisecond, "the HTTP server comes up")

	call := func(token, method, path string, body any) (int, string) {
		t.Helper()
		var rd io.Reader
		if body != nil {
			raw, err := json.Marshal(body)
			require.NoError(t, err)
			rd = bytes.NewReader(raw)
		}
		req, err := http.NewRequest(method, base+path, rd)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := (&http.Client{Timeout: 15 * time.Second}).Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		printed = append(printed, string(raw))
		return resp.StatusCode, string(raw)
	}

	code, body := call(aliceToken, "POST", "/connections", map[string]any{"name": "alice-mon", "host": mon.Host,
		"port": mon.Port, "database": "postgres", "username": "pgc_monitor", "password": password, "sslmode": "disable"})
	require.Equal(t, http.StatusCreated, code, body)
	var created struct {
		ID    int64  `json:"id"`
		Owner string `json:"owner_username"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &created))
	require.Equal(t, "alice", created.Owner)
	conn := "/connections/" + strconv.FormatInt(created.ID, 10)

	// The fetcher logs in with the password the API encrypted.
	require.Eventually(t, func() bool {
		return e2e.Value[int](t, c, `SELECT count(*)::int FROM metrics.pg_stat_database WHERE connection_id = $1`, created.ID) > 0
	}, 60*time.Second, 500*time.Millisecond, "samples of the connection added over the API")
	code, body = call(aliceToken, "GET", conn+"/samples/pg_stat_database?limit=3", nil)
	require.Equal(t, http.StatusOK, code, body)
	var rows []map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &rows))
	require.NotEmpty(t, rows)
	require.LessOrEqual(t, len(rows), 3)
	require.Contains(t, rows[0], "xact_commit")
	require.Eventually(t, func() bool {
		code, body = call(aliceToken, "GET", conn+"/status", nil)
		return code == http.StatusOK && strings.Contains(body, `"state":"ok"`)
	}, 30*time.Second, time.Second, "status over the API: %s", body)

	// The CLI sees what the API wrote, and the API what the CLI wrote.
	var views []connectionView
	require.NoError(t, json.Unmarshal([]byte(cli("", "connection", "list", "--owner-username", "alice", "--json")), &views))
	require.Len(t, views, 1)
	require.Equal(t, "alice-mon", views[0].Name)
	require.True(t, views[0].HasPassword)
	cli("", "connection", "add", "--name", "bob-cli", "--host", "db.internal", "--username", "mon",
		"--owner-username", "bob")
	code, body = call(bobToken, "GET", "/connections", nil)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `"bob-cli"`)
	require.NotContains(t, body, "alice-mon")
	code, _ = call(bobToken, "GET", conn, nil)
	require.Equal(t, http.StatusNotFound, code)
	code, _ = call(bobToken, "POST", conn+"/disable", nil)
	require.Equal(t, http.StatusNotFound, code)
	monitored := func() bool {
		var v connectionView
		require.NoError(t, json.Unmarshal([]byte(cli("", "connection", "show", "alice-mon", "--json")), &v))
		return v.IsMonitored
	}
	require.True(t, monitored(), "bob's disable changed nothing")

	code, body = call(aliceToken, "POST", conn+"/disable", nil)
	require.Equal(t, http.StatusOK, code, body)
	require.False(t, monitored())

	// A revoked token stops working at once; the other user's does not.
	var tokens []struct {
		ID         int64      `json:"id"`
		Owner      string     `json:"owner"`
		LastUsedAt *time.Time `json:"last_used_at"`
	}
	require.NoError(t, json.Unmarshal([]byte(cli("", "token", "list", "--user", "alice", "--json")), &tokens))
	require.Len(t, tokens, 1)
	require.NotNil(t, tokens[0].LastUsedAt)
	cli("", "token", "revoke", strconv.FormatInt(tokens[0].ID, 10))
	code, _ = call(aliceToken, "GET", "/connections", nil)
	require.Equal(t, http.StatusUnauthorized, code)
	code, _ = call(bobToken, "GET", "/me", nil)
	require.Equal(t, http.StatusOK, code)

	for i, p := range printed {
		require.NotContains(t, p, password, "output %d", i)
	}
	require.NotContains(t, proc.Output(), password)
	require.NotContains(t, proc.Output(), strings.TrimPrefix(aliceToken, "pgc_"))
	require.Zero(t, e2e.Value[int](t, c, `SELECT count(*)::int FROM public.audit_log WHERE details::text LIKE '%' || $1 || '%'`, password))
	require.Equal(t, 2, e2e.Value[int](t, c, `SELECT count(*)::int FROM public.audit_log WHERE actor = 'user:alice'`),
		"create and disable, each audited")
}
