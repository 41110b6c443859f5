package mcpserver_test

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/internal/mcpserver"
)

func names(l mcpserver.ConnectionList) []string {
	out := []string{}
	for _, c := range l.Connections {
		out = append(out, c.Name)
	}
	return out
}

// notFoundShape is a not-found error with its id blanked, so that bob's
// connection and a missing id can be compared.
var idRe = regexp.MustCompile(`\d+`)

// User A cannot list, read, update, disable, enable or delete user B's
// connections: each is "not found", worded exactly as for an id that does
// not exist, and B's row is unchanged. An admin sees and reaches all.
func TestOwnersAreIsolated(t *testing.T) {
	eachVersion(t, func(t *testing.T, r *rig) {
		alice, bob, admin := r.client(t, r.tokens["alice"]), r.client(t, r.tokens["bob"]), r.client(t, r.tokens["admin"])
		a1 := add(t, alice, "a1")
		b1 := add(t, bob, "b1")
		add(t, bob, "b2")

		require.Equal(t, []string{"a1"}, names(ok[mcpserver.ConnectionList](t, alice, "list_connections", nil)))
		require.Equal(t, []string{"b1", "b2"}, names(ok[mcpserver.ConnectionList](t, bob, "list_connections", nil)))
		require.Equal(t, []string{"a1", "b1", "b2"}, names(ok[mcpserver.ConnectionList](t, admin, "list_connections", nil)))

		const missing = int64(1 << 40)
		before := r.snapshot(t)
		for _, c := range []struct {
			tool string
			args func(id int64) map[string]any
		}{
			{"get_connection", func(id int64) map[string]any { return map[string]any{"id": id} }},
			{"update_connection", func(id int64) map[string]any { return map[string]any{"id": id, "host": "evil.example"} }},
			{"update_connection", func(id int64) map[string]any { return map[string]any{"id": id, "password": "x"} }},
			{"disable_connection", func(id int64) map[string]any { return map[string]any{"id": id} }},
			{"enable_connection", func(id int64) map[string]any { return map[string]any{"id": id} }},
			{"delete_connection", func(id int64) map[string]any { return map[string]any{"id": id} }},
			{"read_metrics", func(id int64) map[string]any {
				return map[string]any{"connection_id": id, "probe": "pg_connectivity"}
			}},
		} {
			theirs := fails(t, alice, c.tool, c.args(b1))
			absent := fails(t, alice, c.tool, c.args(missing))
			require.Contains(t, theirs, "not found", c.tool)
			require.Equal(t, idRe.ReplaceAllString(absent, "N"), idRe.ReplaceAllString(theirs, "N"),
				"%s: another user's connection must look exactly like a missing one", c.tool)
			require.NotContains(t, theirs, "b1", "%s must not reveal the name", c.tool)
		}
		require.Equal(t, before, r.snapshot(t), "refused calls change nothing, not even the audit log")

		// The admin reaches bob's connection; alice still reaches her own.
		got := ok[mcpserver.Connection](t, admin, "get_connection", map[string]any{"id": b1})
		require.Equal(t, "bob", got.OwnerUsername)
		off := ok[mcpserver.ConnectionResult](t, admin, "disable_connection", map[string]any{"id": b1})
		require.False(t, off.Connection.Monitored)
		mine := ok[mcpserver.Connection](t, alice, "get_connection", map[string]any{"id": a1})
		require.Equal(t, "a1", mine.Name)
		require.Equal(t, "alice", mine.OwnerUsername)
		require.NotEmpty(t, mine.Health.State)

		// Only an admin may give a connection to someone else.
		msg := fails(t, alice, "add_connection", map[string]any{"name": "gift", "host": "h", "username": "u",
			"owner_username": "bob"})
		require.Contains(t, msg, "owner_username")
		created := ok[mcpserver.ConnectionResult](t, admin, "add_connection", map[string]any{"name": "for-bob",
			"host": "h", "username": "u", "owner_username": "bob"})
		require.Equal(t, "bob", created.Connection.OwnerUsername)
		require.Contains(t, names(ok[mcpserver.ConnectionList](t, bob, "list_connections", nil)), "for-bob")
	})
}
