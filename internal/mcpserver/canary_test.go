package mcpserver_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/internal/catalog"
	"github.com/pgcollector/pgcollector/internal/mcpserver"
)

// A password sent through the tools reaches the datastore encrypted and
// nowhere else: not in any tool result or error, not in the log (captured
// at debug level, the SDK's included), not in the audit log.
func TestPasswordCanaryNeverComesBack(t *testing.T) {
	eachVersion(t, func(t *testing.T, r *rig) {
		const canary, canary2 = "CANARY-pw-8d1f3a", "CANARY-pw-second-77c2"
		alice, admin := r.client(t, r.tokens["alice"]), r.client(t, r.tokens["admin"])
		var seen []string
		do := func(cs *mcp.ClientSession, tool string, args map[string]any) result {
			res := call(t, cs, tool, args)
			seen = append(seen, res.text, string(res.raw))
			return res
		}

		res := do(alice, "add_connection", map[string]any{"name": "secret-db", "host": "db.internal",
			"username": "pgc_monitor", "password": canary})
		require.False(t, res.isError, res.text)
		var created mcpserver.ConnectionResult
		require.NoError(t, json.Unmarshal(res.raw, &created))
		id := created.Connection.ID
		require.True(t, created.Connection.HasPassword)

		// Failures carrying the canary: bad input, a taken name, another
		// user's (here: a missing) connection, a misspelt field.
		for _, args := range []map[string]any{
			{"name": "x", "host": "h", "username": "u", "password": canary, "port": 0},
			{"name": "secret-db", "host": "h", "username": "u", "password": canary},
			{"name": "x", "host": "h", "username": "u", "password": canary, "pasword": canary},
		} {
			require.True(t, do(alice, "add_connection", args).isError)
		}
		require.True(t, do(alice, "update_connection", map[string]any{"id": 1 << 30, "password": canary}).isError)
		require.True(t, do(alice, "update_connection", map[string]any{"id": id, "password": canary2, "sslmode": "no"}).isError)

		require.False(t, do(alice, "update_connection", map[string]any{"id": id, "password": canary2}).isError)
		for _, tool := range []string{"list_connections", "get_connection", "disable_connection", "enable_connection"} {
			args := map[string]any{"id": id}
			if tool == "list_connections" {
				args = nil
			}
			require.False(t, do(alice, tool, args).isError, tool)
			require.False(t, do(admin, tool, args).isError, tool)
		}

		// Stored, and encrypted with the server secret.
		c, err := catalog.FindConnection(t.Context(), r.pool, "secret-db")
		require.NoError(t, err)
		require.NotContains(t, c.PasswordEncrypted, canary2)
		plain, err := r.box.Decrypt(c.PasswordEncrypted)
		require.NoError(t, err)
		require.Equal(t, canary2, plain)

		logs, audit := r.logs.String(), r.auditRows(t)
		require.Contains(t, logs, "MCP tool call", "the log is captured")
		require.Contains(t, audit, "password", "the audit log names the field that changed")
		for _, c := range []string{canary, canary2, "CANARY"} {
			for i, s := range seen {
				require.NotContains(t, s, c, "tool result %d", i)
			}
			require.NotContains(t, logs, c, "log output")
			require.NotContains(t, audit, c, "audit_log")
		}
		require.False(t, strings.Contains(logs, "password_encrypted"), "nor the encrypted form's column")
	})
}
