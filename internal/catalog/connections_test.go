package catalog_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/internal/catalog"
	"github.com/pgcollector/pgcollector/internal/pgtest"
	"github.com/pgcollector/pgcollector/internal/store"
	"github.com/pgcollector/pgcollector/probes"
)

func ptr[T any](v T) *T { return &v }

func TestConnectionLifecycle(t *testing.T) {
	ctx := context.Background()
	c := pgtest.Start(t, pgtest.Options{})
	pool, err := pgxpool.New(ctx, c.DSN("postgres"))
	require.NoError(t, err)
	defer pool.Close()
	require.NoError(t, store.Migrate(ctx, pool, probes.All))

	add := func(name string, owner catalog.Owner) int64 {
		id, err := catalog.AddConnection(ctx, pool, catalog.Connection{Name: name, Host: "db.internal", Port: 5432,
			Database: "postgres", Username: "mon", SSLMode: "verify-full", SSLRootCert: "/ca.pem",
			PasswordEncrypted: "enc", OwnerUsername: owner.Username, OwnerToken: owner.Token})
		require.NoError(t, err)
		return id
	}
	a := add("alpha", catalog.Owner{Username: "alice"})
	b := add("42", catalog.Owner{Token: "tok-b"})
	add("gamma", catalog.Owner{Token: "tok-c"})

	_, err = catalog.AddConnection(ctx, pool, catalog.Connection{Name: "alpha", Host: "h", Port: 1, Database: "d", Username: "u", SSLMode: "disable"})
	require.ErrorIs(t, err, catalog.ErrNameTaken)

	// By id, by name, and a numeric name that is no id.
	got, err := catalog.FindConnection(ctx, pool, "alpha")
	require.NoError(t, err)
	require.Equal(t, a, got.ID)
	got, err = catalog.FindConnection(ctx, pool, "42")
	require.NoError(t, err)
	require.Equal(t, b, got.ID)
	got, err = catalog.FindConnection(ctx, pool, "1")
	require.NoError(t, err)
	require.Equal(t, "alpha", got.Name)
	_, err = catalog.FindConnection(ctx, pool, "nope")
	require.ErrorIs(t, err, catalog.ErrNotFound)

	list, err := catalog.ListConnections(ctx, pool, catalog.Filter{OwnerToken: "tok-b"})
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, "42", list[0].Name)

	// Update: settings, a new owner (the other owner column is cleared),
	// clearing an optional column, disabling.
	require.NoError(t, catalog.UpdateConnection(ctx, pool, a, catalog.ConnectionUpdate{
		Host: ptr("db2.internal"), Port: ptr(6432), PasswordEncrypted: ptr("enc2"), SSLRootCert: ptr(""),
		SSLMode: ptr("require"), Owner: &catalog.Owner{Token: "tok-a"}, Monitored: ptr(false)}))
	got, err = catalog.FindConnection(ctx, pool, "alpha")
	require.NoError(t, err)
	require.Equal(t, "db2.internal", got.Host)
	require.Equal(t, 6432, got.Port)
	require.Equal(t, "enc2", got.PasswordEncrypted)
	require.Empty(t, got.SSLRootCert)
	require.Equal(t, "require", got.SSLMode)
	require.Empty(t, got.OwnerUsername)
	require.Equal(t, "tok-a", got.OwnerToken)
	require.False(t, got.IsMonitored)
	require.True(t, got.UpdatedAt.After(got.CreatedAt))
	monitored, err := catalog.ListConnections(ctx, pool, catalog.Filter{MonitoredOnly: true})
	require.NoError(t, err)
	require.Len(t, monitored, 2)

	require.ErrorIs(t, catalog.UpdateConnection(ctx, pool, a, catalog.ConnectionUpdate{Name: ptr("gamma")}), catalog.ErrNameTaken)
	require.ErrorIs(t, catalog.UpdateConnection(ctx, pool, 999, catalog.ConnectionUpdate{Host: ptr("x")}), catalog.ErrNotFound)

	// connection_error is written only on change and cleared with "".
	require.NoError(t, catalog.SetConnectionError(ctx, pool, b, "refused"))
	got, _ = catalog.FindConnection(ctx, pool, "42")
	require.Equal(t, "refused", got.ConnectionError)
	require.NoError(t, catalog.SetConnectionError(ctx, pool, b, ""))
	got, _ = catalog.FindConnection(ctx, pool, "42")
	require.Empty(t, got.ConnectionError)

	// A row inserted by hand, without owner, host or user, still lists,
	// but in no owner's listing.
	_, err = pool.Exec(ctx, `INSERT INTO public.connections (name) VALUES ('legacy')`)
	require.NoError(t, err)
	all, err := catalog.ListConnections(ctx, pool, catalog.Filter{})
	require.NoError(t, err)
	require.Len(t, all, 4)
	for f, want := range map[catalog.Filter]string{{OwnerToken: "tok-a"}: "alpha", {OwnerToken: "tok-b"}: "42"} {
		list, err := catalog.ListConnections(ctx, pool, f)
		require.NoError(t, err)
		require.Len(t, list, 1, "%+v", f)
		require.Equal(t, want, list[0].Name)
	}

	require.NoError(t, catalog.RemoveConnection(ctx, pool, a))
	require.ErrorIs(t, catalog.RemoveConnection(ctx, pool, a), catalog.ErrNotFound)
	_, err = catalog.FindConnection(ctx, pool, "alpha")
	require.ErrorIs(t, err, catalog.ErrNotFound)
}
