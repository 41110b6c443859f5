package mcpserver_test

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/internal/access"
	"github.com/pgcollector/pgcollector/internal/catalog"
	"github.com/pgcollector/pgcollector/internal/mcpserver"
)

// delete_connection removes the caller's own connection and records who
// did it; another user's connection is refused exactly as a missing id
// (TestOwnersAreIsolated compares the wording), and an admin reaches any.
func TestDeleteConnection(t *testing.T) {
	eachVersion(t, func(t *testing.T, r *rig) {
		ctx := t.Context()
		alice, bob, admin := r.client(t, r.tokens["alice"]), r.client(t, r.tokens["bob"]), r.client(t, r.tokens["admin"])
		a1 := add(t, alice, "a1")
		b1 := add(t, bob, "b1")

		before := r.snapshot(t)
		require.Contains(t, fails(t, alice, "delete_connection", map[string]any{"id": b1}), "not found")
		require.Equal(t, before, r.snapshot(t), "bob's connection is still there and nothing is audited")

		got := ok[mcpserver.Deleted](t, alice, "delete_connection", map[string]any{"id": a1})
		require.Equal(t, mcpserver.Deleted{ID: a1, Deleted: true}, got)
		require.Empty(t, names(ok[mcpserver.ConnectionList](t, alice, "list_connections", nil)))
		var left int
		require.NoError(t, r.pool.QueryRow(ctx, `SELECT count(*) FROM public.connections WHERE id = $1`, a1).Scan(&left))
		require.Zero(t, left, "the row is gone from the datastore")
		entries, err := access.ListAudit(ctx, r.pool, 1)
		require.NoError(t, err)
		require.Equal(t, "user:alice", entries[0].Actor)
		require.Equal(t, "connection.delete", entries[0].Action)
		require.Equal(t, "connection:"+strconv.FormatInt(a1, 10), entries[0].Target)
		require.Equal(t, "a1", entries[0].Details["name"])

		require.Contains(t, fails(t, alice, "delete_connection", map[string]any{"id": a1}), "not found",
			"a second delete finds nothing")
		ok[mcpserver.Deleted](t, admin, "delete_connection", map[string]any{"id": b1})
		require.Empty(t, names(ok[mcpserver.ConnectionList](t, bob, "list_connections", nil)))
	})
}

// set_probe is the API's probe PATCH: an admin changes a probe's
// fleet-wide settings (audited), anyone else is refused and nothing
// changes, and bad input names its field.
func TestSetProbe(t *testing.T) {
	eachVersion(t, func(t *testing.T, r *rig) {
		ctx := t.Context()
		alice, admin := r.client(t, r.tokens["alice"]), r.client(t, r.tokens["admin"])
		const probe = "pg_stat_database"
		probesBefore, err := catalog.ListProbes(ctx, r.pool)
		require.NoError(t, err)
		before := r.snapshot(t)

		require.Contains(t, fails(t, alice, "set_probe", map[string]any{"name": probe, "interval_seconds": 5}),
			"admin only")
		msg := fails(t, admin, "set_probe", map[string]any{"name": probe, "interval_seconds": 0})
		require.Contains(t, msg, "interval_seconds")
		require.Contains(t, fails(t, admin, "set_probe", map[string]any{"name": "no_such_probe", "enabled": false}),
			"not found")
		probesAfter, err := catalog.ListProbes(ctx, r.pool)
		require.NoError(t, err)
		require.Equal(t, probesBefore, probesAfter)
		require.Equal(t, before, r.snapshot(t))

		got := ok[mcpserver.ProbeResult](t, admin, "set_probe",
			map[string]any{"name": probe, "interval_seconds": 45, "retention_days": 9})
		require.Equal(t, probe, got.Probe.Name)
		require.Equal(t, 45, got.Probe.IntervalSeconds)
		require.Equal(t, 9, got.Probe.RetentionDays)
		require.NotEmpty(t, got.Probe.Columns)
		for _, p := range ok[mcpserver.ProbeList](t, alice, "list_probes", nil).Probes {
			if p.Name == probe {
				require.Equal(t, 45, p.IntervalSeconds, "every user sees the change")
			}
		}
		entries, err := access.ListAudit(ctx, r.pool, 1)
		require.NoError(t, err)
		require.Equal(t, "user:admin", entries[0].Actor)
		require.Equal(t, "probe.set", entries[0].Action)
		require.Equal(t, "probe:"+probe, entries[0].Target)
	})
}
