package api_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestUsersSeeOnlyTheirOwnConnections: bob cannot list, read, change,
// enable, disable, delete, or read the status or samples of alice's
// connection, and every answer is the one a missing id gets.
func TestUsersSeeOnlyTheirOwnConnections(t *testing.T) {
	r := newRig(t)
	alice := r.create("alice", "alice-db", nil)
	bob := r.create("bob", "bob-db", nil)

	code, body := r.do("bob", "GET", "/api/v1/connections", nil)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `"bob-db"`)
	require.NotContains(t, body, "alice-db")

	missing := int64(999999)
	for _, rq := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/api/v1/connections/%d", nil},
		{"PATCH", "/api/v1/connections/%d", map[string]any{"port": 6543}},
		{"POST", "/api/v1/connections/%d/disable", nil},
		{"POST", "/api/v1/connections/%d/enable", nil},
		{"GET", "/api/v1/connections/%d/status", nil},
		{"GET", "/api/v1/connections/%d/samples/pg_stat_database", nil},
		{"DELETE", "/api/v1/connections/%d", nil},
	} {
		codeA, bodyA := r.do("bob", rq.method, fmt.Sprintf(rq.path, alice), rq.body)
		codeM, bodyM := r.do("bob", rq.method, fmt.Sprintf(rq.path, missing), rq.body)
		require.Equal(t, http.StatusNotFound, codeA, "%s %s: %s", rq.method, rq.path, bodyA)
		require.Equal(t, codeM, codeA)
		require.Equal(t, bodyM, bodyA, "another user's connection must look like a missing one")
	}
	// Nothing of alice's changed, and nothing was audited for bob.
	require.Equal(t, 1, r.count(`SELECT count(*) FROM public.connections WHERE id = $1 AND port = 5432 AND is_monitored`, alice))
	require.Zero(t, r.count(`SELECT count(*) FROM public.audit_log WHERE actor = 'user:bob' AND target = $1`,
		fmt.Sprintf("connection:%d", alice)))

	// Alice can do all of it to her own, and the admin sees both.
	code, body = r.do("alice", "PATCH", fmt.Sprintf("/api/v1/connections/%d", alice), map[string]any{"port": 6543})
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, `"port":6543`)
	code, body = r.do("alice", "POST", fmt.Sprintf("/api/v1/connections/%d/disable", alice), nil)
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, `"monitored":false`)
	code, _ = r.do("alice", "GET", fmt.Sprintf("/api/v1/connections/%d/status", alice), nil)
	require.Equal(t, http.StatusOK, code)
	code, body = r.do("alice", "GET", fmt.Sprintf("/api/v1/connections/%d/samples/pg_stat_database?limit=5", alice), nil)
	require.Equal(t, http.StatusOK, code, body)
	require.JSONEq(t, `[]`, body)

	code, body = r.do("root", "GET", "/api/v1/connections", nil)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "alice-db")
	require.Contains(t, body, "bob-db")
	code, _ = r.do("root", "GET", fmt.Sprintf("/api/v1/connections/%d", bob), nil)
	require.Equal(t, http.StatusOK, code)

	code, _ = r.do("alice", "DELETE", fmt.Sprintf("/api/v1/connections/%d", alice), nil)
	require.Equal(t, http.StatusNoContent, code)
	require.Zero(t, r.count(`SELECT count(*) FROM public.connections WHERE id = $1`, alice))

	// Every change is in the audit log under who made it.
	require.Equal(t, []string{"connection.create", "connection.update", "connection.disable", "connection.delete"},
		r.actions("user:alice"))
}

// TestOnlyAnAdminChangesProbesAndOwners: probes are fleet-wide, so a
// plain user's PATCH is 403 and changes nothing; an owner can only be
// named by an admin.
func TestOnlyAnAdminChangesProbesAndOwners(t *testing.T) {
	r := newRig(t)
	code, body := r.do("alice", "PATCH", "/api/v1/probes/pg_stat_database", map[string]any{"interval_seconds": 5})
	require.Equal(t, http.StatusForbidden, code, body)
	require.Zero(t, r.count(`SELECT count(*) FROM public.probes WHERE name = 'pg_stat_database' AND collection_interval_seconds = 5`))

	code, body = r.do("root", "PATCH", "/api/v1/probes/pg_stat_database", map[string]any{"interval_seconds": 5})
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, `"interval_seconds":5`)
	code, _ = r.do("root", "PATCH", "/api/v1/probes/no_such_probe", map[string]any{"interval_seconds": 5})
	require.Equal(t, http.StatusNotFound, code)

	code, body = r.do("alice", "POST", "/api/v1/connections",
		map[string]any{"name": "x", "host": "h", "username": "u", "owner_username": "bob"})
	require.Equal(t, http.StatusBadRequest, code)
	require.Contains(t, body, `"field":"owner_username"`)

	id := r.create("root", "for-bob", map[string]any{"owner_username": "bob"})
	code, body = r.do("bob", "GET", fmt.Sprintf("/api/v1/connections/%d", id), nil)
	require.Equal(t, http.StatusOK, code, body)
	code, body = r.do("bob", "GET", "/api/v1/probes", nil)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `"name":"pg_stat_database"`)
}

// actions lists the audit log's actions of actor, oldest first.
func (r *rig) actions(actor string) []string {
	r.t.Helper()
	rows, err := r.pool.Query(r.t.Context(), `SELECT action FROM public.audit_log WHERE actor = $1 ORDER BY id`, actor)
	require.NoError(r.t, err)
	var out []string
	for rows.Next() {
		var a string
		require.NoError(r.t, rows.Scan(&a))
		out = append(out, a)
	}
	require.NoError(r.t, rows.Err())
	return out
}
