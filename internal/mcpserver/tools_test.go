package mcpserver_test

import (
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/internal/mcpserver"
	"github.com/pgcollector/pgcollector/probes"
)

// An assistant chooses tools by their descriptions and fills them in by
// their schemas: every tool has both, and the bounds are in the schema.
func TestToolsAreDescribed(t *testing.T) {
	eachVersion(t, func(t *testing.T, r *rig) {
		cs := r.client(t, r.tokens["alice"])
		res, err := cs.ListTools(t.Context(), &mcp.ListToolsParams{})
		require.NoError(t, err)
		byName := map[string]*mcp.Tool{}
		for _, tool := range res.Tools {
			byName[tool.Name] = tool
			require.GreaterOrEqual(t, len(tool.Description), 40, tool.Name)
			require.NotNil(t, tool.InputSchema, tool.Name)
			// read_metrics has none on purpose (see readMetricsUntyped).
			require.Equal(t, tool.Name != "read_metrics", tool.OutputSchema != nil, tool.Name)
		}
		require.Len(t, byName, 10, "a new tool is added to this list and to docs/mcp.md")
		for _, name := range []string{"list_connections", "get_connection", "add_connection", "update_connection",
			"disable_connection", "enable_connection", "delete_connection", "list_probes", "set_probe", "read_metrics"} {
			require.Contains(t, byName, name)
		}
		schema := byName["read_metrics"].InputSchema.(map[string]any)
		limit := schema["properties"].(map[string]any)["limit"].(map[string]any)
		require.Contains(t, limit["description"], "at most 500")
		require.EqualValues(t, mcpserver.DefaultRows, limit["default"])
		add := byName["add_connection"].InputSchema.(map[string]any)
		require.ElementsMatch(t, []any{"name", "host", "username"}, add["required"])
		require.Contains(t, add["properties"].(map[string]any)["password"].(map[string]any)["description"],
			"never returned")

		ps := ok[mcpserver.ProbeList](t, cs, "list_probes", nil)
		require.Len(t, ps.Probes, len(probes.All))
		for _, p := range ps.Probes {
			require.NotEmpty(t, p.Columns, p.Name)
		}
	})
}
