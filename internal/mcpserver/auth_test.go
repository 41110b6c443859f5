package mcpserver_test

import (
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/internal/access"
)

// initialize is a well-formed first MCP message: with a good token it is
// answered, so a 401 for the same bytes is the token's doing alone.
const initialize = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18",` +
	`"capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}`

func post(t *testing.T, url, authorization string) (int, http.Header, string) {
	t.Helper()
	return postAs(t, url, "", authorization)
}

// postAs posts initialize with the given Host header ("" for the URL's).
func postAs(t *testing.T, url, host, authorization string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader(initialize))
	require.NoError(t, err)
	if host != "" {
		req.Host = host
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, string(body)
}

// Missing, malformed, unknown, revoked and expired tokens, and the token of
// a disabled user, are refused with HTTP 401 before any MCP message is
// read; the SDK's client cannot even initialize with them. The refusal
// never says which case it was.
func TestTokensAreChecked(t *testing.T) {
	eachVersion(t, func(t *testing.T, r *rig) {
		ctx := t.Context()
		code, _, body := post(t, r.url, "Bearer "+r.tokens["alice"])
		require.Equal(t, http.StatusOK, code, body)
		require.Contains(t, body, `"serverInfo"`)
		// A reverse proxy on the same machine may forward the public Host.
		code, _, body = postAs(t, r.url, "collector.example.com", "Bearer "+r.tokens["alice"])
		require.Equal(t, http.StatusOK, code, body)

		revoked := r.token(t, "alice", 0)
		toks, err := access.ListTokens(ctx, r.pool, "alice")
		require.NoError(t, err)
		require.NoError(t, access.RevokeToken(ctx, r.pool, "test", toks[len(toks)-1].ID))
		expired := r.token(t, "alice", time.Millisecond)
		require.NoError(t, access.AddUser(ctx, r.pool, "test", "carol", false))
		disabled := r.token(t, "carol", 0)
		require.NoError(t, access.DisableUser(ctx, r.pool, "test", "carol"))
		time.Sleep(5 * time.Millisecond) // past the expired token's millisecond

		for name, authz := range map[string]string{
			"missing":       "",
			"not bearer":    "Basic " + r.tokens["alice"],
			"unknown":       "Bearer " + access.TokenPrefix + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
			"no prefix":     "Bearer " + strings.TrimPrefix(r.tokens["alice"], access.TokenPrefix),
			"revoked":       "Bearer " + revoked,
			"expired":       "Bearer " + expired,
			"disabled user": "Bearer " + disabled,
		} {
			code, hdr, body := post(t, r.url, authz)
			require.Equal(t, http.StatusUnauthorized, code, "%s: %s", name, body)
			require.Contains(t, hdr.Get("WWW-Authenticate"), "Bearer", name)
			require.NotContains(t, body, "jsonrpc", "%s: refused before MCP", name)
			if authz != "" && name != "not bearer" {
				require.Equal(t, "invalid or expired token\n", body, "%s: says no more than that", name)
			}
		}
		for name, tok := range map[string]string{"revoked": revoked, "expired": expired, "disabled user": disabled} {
			_, err := connect(ctx, r.url, tok)
			require.Error(t, err, "%s: the SDK client must not get a session", name)
		}

		// A token revoked while a client is connected stops working at its
		// next request: every request is authenticated afresh.
		live := r.token(t, "alice", 0)
		cs := r.client(t, live)
		add(t, cs, "before-revoke")
		toks, err = access.ListTokens(ctx, r.pool, "alice")
		require.NoError(t, err)
		require.NoError(t, access.RevokeToken(ctx, r.pool, "test", toks[len(toks)-1].ID))
		_, err = cs.CallTool(ctx, callParams("list_connections", nil))
		require.Error(t, err)
		require.Contains(t, err.Error(), "Unauthorized")
	})
}

// A token past its burst gets HTTP 429 with Retry-After, before any MCP
// message is read, the same budget as the REST API; another token is not
// affected.
func TestRequestRatePerToken(t *testing.T) {
	eachVersion(t, func(t *testing.T, r *rig) {
		url := r.serve(t, 0.2, 3, slog.New(slog.NewTextHandler(io.Discard, nil)))
		for i := range 3 {
			code, _, body := post(t, url, "Bearer "+r.tokens["alice"])
			require.Equal(t, http.StatusOK, code, "request %d of the burst: %s", i+1, body)
		}
		code, hdr, body := post(t, url, "Bearer "+r.tokens["alice"])
		require.Equal(t, http.StatusTooManyRequests, code, body)
		require.NotContains(t, body, "jsonrpc")
		wait, err := strconv.Atoi(hdr.Get("Retry-After"))
		require.NoError(t, err, "Retry-After %q", hdr.Get("Retry-After"))
		require.GreaterOrEqual(t, wait, 1)
		require.LessOrEqual(t, wait, 5, "at 0.2/s the next request is at most 5 s away")

		code, _, body = post(t, url, "Bearer "+r.tokens["bob"])
		require.Equal(t, http.StatusOK, code, "bob's budget is his own: %s", body)
		// A bad token is refused as unauthenticated, not counted.
		code, _, _ = post(t, url, "Bearer "+access.TokenPrefix+"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
		require.Equal(t, http.StatusUnauthorized, code)
	})
}
