package api_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPasswordIsEncryptedAndNeverShown: a password given on create and on
// update is stored encrypted with the server secret and appears in no
// response, log line or audit row.
func TestPasswordIsEncryptedAndNeverShown(t *testing.T) {
	r := newRig(t)
	id := r.create("alice", "secretive", map[string]any{"password": canary})
	var stored string
	require.NoError(t, r.pool.QueryRow(t.Context(), `SELECT password_encrypted FROM public.connections WHERE id = $1`, id).Scan(&stored))
	require.NotContains(t, stored, canary)
	plain, err := r.box.Decrypt(stored)
	require.NoError(t, err)
	require.Equal(t, canary, plain)

	path := fmt.Sprintf("/api/v1/connections/%d", id)
	code, body := r.do("alice", "PATCH", path, map[string]any{"password": canary + "-2"})
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, `"has_password":true`)
	// A refused request with the password in it does not echo it either.
	code, _ = r.do("alice", "PATCH", path, map[string]any{"password": canary, "port": -1})
	require.Equal(t, http.StatusBadRequest, code)
	code, _ = r.do("alice", "POST", "/api/v1/connections", `{"name":"y","host":"h","username":"u","password":"`+canary+`","x":1}`)
	require.Equal(t, http.StatusBadRequest, code)
	for _, path := range []string{"/api/v1/connections", path, path + "/status"} {
		code, _ = r.do("alice", "GET", path, nil)
		require.Equal(t, http.StatusOK, code)
	}

	for i, b := range r.bodies {
		require.NotContains(t, b, canary, "response %d", i)
	}
	require.NotContains(t, r.log.String(), canary)
	require.Zero(t, r.count(`SELECT count(*) FROM public.audit_log WHERE details::text LIKE '%' || $1 || '%'`, canary))
	require.Equal(t, 1, r.count(`SELECT count(*) FROM public.audit_log WHERE action = 'connection.update'
		AND details->'fields' = '["password"]'`), "the audit row names the field, not the value")
}
