package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/internal/access"
	"github.com/pgcollector/pgcollector/internal/api"
)

// TestRefusedTokens: no token, a malformed one, an unknown one, a revoked
// one, an expired one and one of a disabled user all get 401 and reach
// nothing.
func TestRefusedTokens(t *testing.T) {
	r := newRig(t)
	ctx := t.Context()
	get := func(token string) int {
		code, _ := r.doToken(token, "GET", "/api/v1/connections", nil)
		return code
	}
	require.Equal(t, http.StatusOK, get(r.tokens["alice"]))
	require.Equal(t, http.StatusUnauthorized, get(""))
	require.Equal(t, http.StatusUnauthorized, get("not-a-token"))
	require.Equal(t, http.StatusUnauthorized, get(access.TokenPrefix+"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"))

	revoked, tk, err := access.CreateToken(ctx, r.pool, "test", "alice", "to revoke", 0)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, get(revoked))
	require.NoError(t, access.RevokeToken(ctx, r.pool, "test", tk.ID))
	require.Equal(t, http.StatusUnauthorized, get(revoked), "a revoked token stops working at once")

	expired, tk, err := access.CreateToken(ctx, r.pool, "test", "alice", "short", time.Hour)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, get(expired))
	_, err = r.pool.Exec(ctx, `UPDATE public.api_tokens SET expires_at = now() - interval '1 second' WHERE id = $1`, tk.ID)
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, get(expired))

	require.NoError(t, access.DisableUser(ctx, r.pool, "test", "bob"))
	require.Equal(t, http.StatusUnauthorized, get(r.tokens["bob"]))

	// The spec is public: a client needs it before it has a token.
	code, body := r.doToken("", "GET", "/api/v1/openapi.json", nil)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `"openapi"`)
	// Tokens are never logged, not even the refused ones.
	require.NotContains(t, r.log.String(), strings.TrimPrefix(revoked, access.TokenPrefix))
}

// TestRequestRatePerToken: a token past its burst gets 429 with
// Retry-After; another token is not affected.
func TestRequestRatePerToken(t *testing.T) {
	r := newRig(t, func(c *api.Config) { c.RatePerToken, c.BurstPerToken = 0.5, 3 })
	for i := 0; i < 3; i++ {
		code, _ := r.do("alice", "GET", "/api/v1/me", nil)
		require.Equal(t, http.StatusOK, code)
	}
	code, body := r.do("alice", "GET", "/api/v1/me", nil)
	require.Equal(t, http.StatusTooManyRequests, code, body)
	code, body = r.do("bob", "GET", "/api/v1/me", nil)
	require.Equal(t, http.StatusOK, code)
	require.JSONEq(t, `{"username":"bob","admin":false,"token_id":2}`, body)
}
