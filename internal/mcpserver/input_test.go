package mcpserver_test

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// Bad input is refused with an error naming the field, whether the SDK's
// schema check or access's validation catches it, and changes nothing:
// not the connections table, not the audit log.
func TestBadInputNamesTheFieldAndChangesNothing(t *testing.T) {
	eachVersion(t, func(t *testing.T, r *rig) {
		alice := r.client(t, r.tokens["alice"])
		id := add(t, alice, "taken")
		good := func(extra map[string]any) map[string]any {
			args := map[string]any{"name": "new", "host": "db.internal", "username": "pgc_monitor"}
			for k, v := range extra {
				if v == nil {
					delete(args, k)
				} else {
					args[k] = v
				}
			}
			return args
		}
		before := r.snapshot(t)
		for _, c := range []struct {
			name, tool string
			args       map[string]any
			field      string
		}{
			{"port too high", "add_connection", good(map[string]any{"port": 70000}), "port"},
			{"port zero", "update_connection", map[string]any{"id": id, "port": 0}, "port"},
			{"port not a number", "add_connection", good(map[string]any{"port": "5432"}), "port"},
			{"sslmode unknown", "add_connection", good(map[string]any{"sslmode": "sometimes"}), "sslmode"},
			{"name missing", "add_connection", good(map[string]any{"name": nil}), "name"},
			{"host empty", "add_connection", good(map[string]any{"host": "  "}), "host"},
			{"username empty", "update_connection", map[string]any{"id": id, "username": ""}, "username"},
			{"name taken", "add_connection", good(map[string]any{"name": "taken"}), "name"},
			{"name starts with dash", "add_connection", good(map[string]any{"name": "-x"}), "name"},
			{"control character", "add_connection", good(map[string]any{"database": "a\nb"}), "database"},
			{"cert without key", "add_connection", good(map[string]any{"sslcert": "/etc/c.pem"}), "sslkey"},
			{"misspelt field", "add_connection", good(map[string]any{"pasword": "x"}), "pasword"},
			{"owner by non-admin", "update_connection", map[string]any{"id": id, "owner_username": "bob"}, "owner_username"},
			{"id missing", "update_connection", map[string]any{"host": "h"}, "id"},
			{"limit too high", "read_metrics", map[string]any{"connection_id": id, "probe": "pg_connectivity", "limit": 501}, "limit"},
			{"limit zero", "read_metrics", map[string]any{"connection_id": id, "probe": "pg_connectivity", "limit": 0}, "limit"},
		} {
			msg := fails(t, alice, c.tool, c.args)
			require.Contains(t, msg, c.field, c.name)
			require.NotContains(t, msg, "internal error", c.name)
		}
		require.Equal(t, before, r.snapshot(t), "no refused call may change anything")
	})
}
