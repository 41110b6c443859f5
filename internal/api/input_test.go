package api_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestBadInputNamesTheFieldAndChangesNothing: each bad request gets a 4xx
// whose body names the field, and neither the connections nor the audit
// log change.
func TestBadInputNamesTheFieldAndChangesNothing(t *testing.T) {
	r := newRig(t)
	id := r.create("alice", "good", nil)
	before := r.snapshot()
	path := fmt.Sprintf("/api/v1/connections/%d", id)
	for _, c := range []struct {
		method, path string
		body         string
		code         int
		field        string
	}{
		{"POST", "/api/v1/connections", `{"name":"x","host":"h","username":"u","port":"5432"}`, 400, "port"},
		{"POST", "/api/v1/connections", `{"name":"x","host":"h","username":"u","port":70000}`, 400, "port"},
		{"POST", "/api/v1/connections", `{"name":"x","host":"h","username":"u","sslmode":"sometimes"}`, 400, "sslmode"},
		{"POST", "/api/v1/connections", `{"name":"x","username":"u"}`, 400, "host"},
		{"POST", "/api/v1/connections", `{"host":"h","username":"u"}`, 400, "name"},
		{"POST", "/api/v1/connections", `{"name":"x","host":"h","username":"u","colour":"red"}`, 400, "colour"},
		{"POST", "/api/v1/connections", `{"name":"x","host":"h\nx","username":"u"}`, 400, "host"},
		{"POST", "/api/v1/connections", `{"name":"x","host":"h","username":"u","sslcert":"/c.pem"}`, 400, "sslkey"},
		{"POST", "/api/v1/connections", `{"name":"x","host":"h","username":"u"} {}`, 400, "body"},
		{"POST", "/api/v1/connections", `not json`, 400, "body"},
		{"POST", "/api/v1/connections", `{"name":"good","host":"h","username":"u"}`, 400, "name"},
		{"POST", "/api/v1/connections", `{"name":"` + strings.Repeat("x", 70000) + `","host":"h","username":"u"}`, 413, "body"},
		{"PATCH", path, `{}`, 400, "body"},
		{"PATCH", path, `{"port":0}`, 400, "port"},
		{"PATCH", path, `{"database":""}`, 400, "database"},
		{"GET", path + "/samples/pg_stat_database?limit=0", "", 400, "limit"},
		{"GET", path + "/samples/pg_stat_database?limit=many", "", 400, "limit"},
		{"GET", path + "/samples/no_such_probe", "", 404, ""},
		{"PATCH", "/api/v1/probes/pg_stat_database", `{"interval_seconds":0}`, 400, "interval_seconds"},
		{"GET", "/api/v1/connections/abc", "", 404, ""},
		{"GET", "/api/v1/nothing-here", "", 404, ""},
	} {
		user := "alice"
		if strings.HasPrefix(c.path, "/api/v1/probes") {
			user = "root"
		}
		var body any
		if c.body != "" {
			body = c.body
		}
		code, got := r.do(user, c.method, c.path, body)
		require.Equal(t, c.code, code, "%s %s %.80s: %s", c.method, c.path, c.body, got)
		if c.field != "" {
			require.Contains(t, got, `"field":"`+c.field+`"`, "%s %.80s", c.method, c.body)
		}
		require.Equal(t, before, r.snapshot(), "a refused request changed the datastore: %s %.80s", c.method, c.body)
	}
}

// snapshot is everything a request could change, as text.
func (r *rig) snapshot() string {
	r.t.Helper()
	var s string
	require.NoError(r.t, r.pool.QueryRow(r.t.Context(), `SELECT
		(SELECT coalesce(string_agg(to_jsonb(c)::text, ',' ORDER BY id), '') FROM public.connections c) ||
		(SELECT coalesce(string_agg(to_jsonb(a)::text, ',' ORDER BY id), '') FROM public.audit_log a) ||
		(SELECT coalesce(string_agg(to_jsonb(p)::text, ',' ORDER BY name), '') FROM public.probes p)`).Scan(&s))
	return s
}
