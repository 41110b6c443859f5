package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/internal/pgtest"
	"github.com/pgcollector/pgcollector/internal/secret"
)

// TestConnectionCommands drives every connection subcommand in-process
// against a real datastore, and checks that no password, encrypted
// password or owner token is ever printed.
func TestConnectionCommands(t *testing.T) {
	ctx := context.Background()
	const pw1, pw2, pw3 = "canary-one-8d1f", "canary-two-51ab", "canary-three-0c3e"
	const tok1, tok2 = "owner-token-aaa-111", "owner-token-bbb-222"
	store := pgtest.Start(t, pgtest.Options{})
	store.Exec(t, "postgres", "CREATE DATABASE pgc")
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "secret")
	require.NoError(t, os.WriteFile(secretFile, []byte("cli secret\n"), 0o600))
	pwFile := filepath.Join(dir, "pw")
	require.NoError(t, os.WriteFile(pwFile, []byte(pw2+"\n"), 0o600))
	t.Setenv("PGC_DATASTORE_URL", store.DSN("pgc"))
	t.Setenv("PGC_SECRET_FILE", secretFile)

	var printed []string
	cli := func(wantCode int, stdin string, args ...string) string {
		t.Helper()
		code, out, errOut := runCLI(t, stdin, args...)
		printed = append(printed, out, errOut)
		require.Equal(t, wantCode, code, "pgcollector %v\nstdout: %s\nstderr: %s", args, out, errOut)
		if wantCode != 0 {
			return errOut
		}
		return out
	}
	cli(0, "", "migrate")
	base := []string{"connection", "add", "--host", "db.internal", "--username", "mon"}
	add := func(code int, stdin string, extra ...string) string {
		return cli(code, stdin, append(append([]string{}, base...), extra...)...)
	}

	require.Contains(t, add(2, pw1+"\n", "--name", "a", "--password-stdin"), "an owner is required")
	require.Contains(t, add(2, "", "--name", "a", "--owner-username", "x", "--owner-token", "y"), "not both")
	require.Contains(t, add(2, "", "--name", "a", "--owner-username", "x", "--password", pw1), "--password-stdin")
	require.Contains(t, add(2, "", "--name", "a", "--owner-username", "x", "--sslmode", "verify"), "--sslmode")
	require.Contains(t, add(2, "", "--name", "a", "--owner-username", "x", "--sslcert", "/c.pem"), "--sslkey")
	require.Contains(t, add(2, "", "--name", "a", "--owner-username", "x", "--password-stdin"), "empty")

	idA := strings.TrimSpace(add(0, pw1+"\n", "--name", "a", "--owner-token", tok1, "--password-stdin",
		"--sslmode", "verify-full", "--sslrootcert", "/etc/ca.pem"))
	idB := strings.TrimSpace(add(0, "", "--name", "b", "--owner-username", "bob", "--password-file", pwFile,
		"--sslcert", "/c.pem", "--sslkey", "/c.key", "--port", "6432"))
	add(0, "", "--name", "c", "--owner-token", tok2)
	require.Contains(t, add(1, "", "--name", "a", "--owner-token", tok1), `"a" already exists`)

	db, err := pgx.Connect(ctx, store.DSN("pgc"))
	require.NoError(t, err)
	defer db.Close(ctx)
	box, err := secret.New("cli secret")
	require.NoError(t, err)
	storedPassword := func(id string) string {
		var enc string
		require.NoError(t, db.QueryRow(ctx, "SELECT password_encrypted FROM connections WHERE id = $1", id).Scan(&enc))
		return enc
	}
	encA := storedPassword(idA)
	plain, err := box.Decrypt(encA)
	require.NoError(t, err)
	require.Equal(t, pw1, plain)
	plain, err = box.Decrypt(storedPassword(idB))
	require.NoError(t, err)
	require.Equal(t, pw2, plain, "one trailing newline of the password file is dropped")

	table := cli(0, "", "connection", "list")
	require.Contains(t, table, "OWNER")
	require.Contains(t, table, "(token)")
	require.Contains(t, table, "bob")
	var views []connectionView
	require.NoError(t, json.Unmarshal([]byte(cli(0, "", "connection", "list", "--owner-token", tok1, "--json")), &views))
	require.Len(t, views, 1)
	require.Equal(t, "a", views[0].Name)
	require.True(t, views[0].HasPassword)
	require.True(t, views[0].HasOwnerToken)
	require.NoError(t, json.Unmarshal([]byte(cli(0, "", "connection", "list", "--owner-username", "bob", "--json")), &views))
	require.Len(t, views, 1)
	require.Equal(t, "b", views[0].Name)
	require.NoError(t, json.Unmarshal([]byte(cli(0, "", "connection", "list", "--owner-token", "nobody", "--json")), &views))
	require.Empty(t, views)

	show := cli(0, "", "connection", "show", "a")
	require.Contains(t, show, "/etc/ca.pem")
	require.Contains(t, show, "set (encrypted)")
	var v connectionView
	require.NoError(t, json.Unmarshal([]byte(cli(0, "", "connection", "show", "--json", idB)), &v))
	require.Equal(t, 6432, v.Port)
	require.Equal(t, "/c.key", v.SSLKey)
	require.Contains(t, cli(1, "", "connection", "show", "nope"), `"nope"`)
	require.Contains(t, cli(2, "", "connection", "show"), "one connection id or name")

	// Update: rotate the password, move the port, change owner; flags
	// may come before or after the id.
	require.Contains(t, cli(2, "", "connection", "update", "a"), "nothing to change")
	cli(0, pw3+"\n", "connection", "update", "a", "--password-stdin", "--port", "5433")
	cli(0, "", "connection", "update", "--owner-username", "carol", idA)
	require.NotEqual(t, encA, storedPassword(idA))
	plain, err = box.Decrypt(storedPassword(idA))
	require.NoError(t, err)
	require.Equal(t, pw3, plain)
	require.NoError(t, json.Unmarshal([]byte(cli(0, "", "connection", "show", "a", "--json")), &v))
	require.Equal(t, 5433, v.Port)
	require.Equal(t, "carol", v.OwnerUsername)
	require.False(t, v.HasOwnerToken, "a new owner replaces the old one")
	require.Contains(t, cli(2, "", "connection", "update", "a", "--sslcert", "/x.pem"), "--sslkey")
	require.Contains(t, cli(1, "", "connection", "update", "a", "--name", "b"), `"b" already exists`)

	cli(0, "", "connection", "disable", "b")
	require.NoError(t, json.Unmarshal([]byte(cli(0, "", "connection", "show", "b", "--json")), &v))
	require.False(t, v.IsMonitored)
	cli(0, "", "connection", "enable", idB)
	require.NoError(t, json.Unmarshal([]byte(cli(0, "", "connection", "show", "b", "--json")), &v))
	require.True(t, v.IsMonitored)

	cli(0, "", "connection", "remove", "c")
	require.Contains(t, cli(1, "", "connection", "remove", "c"), `"c"`)
	require.Contains(t, cli(2, "", "connection", "frobnicate"), "unknown subcommand")

	all := strings.Join(printed, "\n")
	for _, s := range []string{pw1, pw2, pw3, tok1, tok2, encA, storedPassword(idA), storedPassword(idB)} {
		require.NotContains(t, all, s)
	}
}
