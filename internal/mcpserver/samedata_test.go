package mcpserver_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/internal/access"
	"github.com/pgcollector/pgcollector/internal/catalog"
	"github.com/pgcollector/pgcollector/internal/mcpserver"
)

func ptr[T any](v T) *T { return &v }

// What a tool changes is what access.Service and the CLI's catalog reads
// see, with the same audit rows, and the other way round; health is what
// access.Service.Status reports.
func TestToolsAndServiceSeeTheSameData(t *testing.T) {
	eachVersion(t, func(t *testing.T, r *rig) {
		ctx := t.Context()
		alice := r.client(t, r.tokens["alice"])
		p, err := access.Authenticate(ctx, r.pool, r.tokens["alice"])
		require.NoError(t, err)

		made := ok[mcpserver.ConnectionResult](t, alice, "add_connection", map[string]any{"name": "shared",
			"host": "db1.internal", "port": 6543, "database": "app", "username": "pgc_monitor", "sslmode": "require"})
		id := made.Connection.ID
		viaSvc, err := r.svc.GetConnection(ctx, p, id)
		require.NoError(t, err)
		require.JSONEq(t, string(mustJSON(t, viaSvc)), string(mustJSON(t, made.Connection)))
		row, err := catalog.FindConnection(ctx, r.pool, "shared")
		require.NoError(t, err)
		require.Equal(t, [5]any{"db1.internal", 6543, "app", "require", "alice"},
			[5]any{row.Host, row.Port, row.Database, row.SSLMode, row.OwnerUsername})
		require.True(t, row.IsMonitored, "collection starts at once")

		ok[mcpserver.ConnectionResult](t, alice, "update_connection", map[string]any{"id": id, "host": "db2.internal"})
		ok[mcpserver.ConnectionResult](t, alice, "disable_connection", map[string]any{"id": id})
		row, err = catalog.FindConnection(ctx, r.pool, "shared")
		require.NoError(t, err)
		require.Equal(t, "db2.internal", row.Host)
		require.False(t, row.IsMonitored)
		entries, err := access.ListAudit(ctx, r.pool, 3)
		require.NoError(t, err)
		var actions []string
		for _, e := range entries {
			require.Equal(t, "user:alice", e.Actor)
			require.Equal(t, "connection:"+itoa(id), e.Target)
			actions = append(actions, e.Action)
		}
		require.Equal(t, []string{"connection.disable", "connection.update", "connection.create"}, actions)

		// The other way: the service changes, the tools see it.
		_, err = r.svc.UpdateConnection(ctx, p, id, access.ConnectionInput{Name: ptr("renamed")})
		require.NoError(t, err)
		_, err = r.svc.SetMonitored(ctx, p, id, true)
		require.NoError(t, err)
		list := ok[mcpserver.ConnectionList](t, alice, "list_connections", nil)
		require.Len(t, list.Connections, 1)
		require.Equal(t, "renamed", list.Connections[0].Name)
		require.True(t, list.Connections[0].Monitored)

		// Health: the probe state the fetchers record, as Status has it.
		_, err = r.pool.Exec(ctx, `INSERT INTO public.probe_state (connection_id, database_name, probe, last_success,
			last_error, last_error_at) VALUES ($1, '', 'pg_connectivity', now() - interval '10 seconds',
			'connection refused', now() - interval '5 seconds')`, id)
		require.NoError(t, err)
		st, err := r.svc.Status(ctx, p, id)
		require.NoError(t, err)
		for _, h := range []mcpserver.Health{
			ok[mcpserver.Connection](t, alice, "get_connection", map[string]any{"id": id}).Health,
			ok[mcpserver.ConnectionList](t, alice, "list_connections", nil).Connections[0].Health,
		} {
			require.Equal(t, st.State, h.State)
			require.Len(t, h.Probes, len(st.Probes))
			for i, ps := range h.Probes {
				require.Equal(t, st.Probes[i].Probe, ps.Probe)
				if ps.Probe == "pg_connectivity" {
					require.NotNil(t, ps.LastSuccess)
					require.True(t, ps.LastSuccess.Equal(*st.Probes[i].LastSuccess))
					require.Equal(t, "connection refused", ps.LastError)
					require.NotNil(t, ps.LagSeconds)
				}
			}
		}
	})
}
