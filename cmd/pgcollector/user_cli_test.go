package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/internal/pgtest"
)

// TestUserTokenAndAuditCommands: users and tokens from the CLI, errors
// with the right exit codes, the token printed once and only its hash
// stored, and every CLI change in the audit log without secrets.
func TestUserTokenAndAuditCommands(t *testing.T) {
	const pw = "audit-canary-4e1d"
	store := pgtest.Start(t, pgtest.Options{})
	store.Exec(t, "postgres", "CREATE DATABASE pgc")
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "secret")
	require.NoError(t, os.WriteFile(secretFile, []byte("cli secret\n"), 0o600))
	t.Setenv("PGC_DATASTORE_URL", store.DSN("pgc"))
	t.Setenv("PGC_SECRET_FILE", secretFile)
	var printed []string
	cli := func(wantCode int, stdin string, args ...string) (string, string) {
		t.Helper()
		code, out, errOut := runCLI(t, stdin, args...)
		printed = append(printed, out, errOut)
		require.Equal(t, wantCode, code, "pgcollector %v\nstdout: %s\nstderr: %s", args, out, errOut)
		return out, errOut
	}
	cli(0, "", "migrate")
	cli(0, "", "user", "add", "alice")
	cli(0, "", "user", "add", "--admin", "root")
	_, errOut := cli(1, "", "user", "add", "alice")
	require.Contains(t, errOut, "already exists")
	_, errOut = cli(2, "", "user", "add", "Not A Name")
	require.Contains(t, errOut, "username")
	_, errOut = cli(2, "", "user", "add")
	require.Contains(t, errOut, "one user name")

	token, errOut := cli(0, "", "token", "create", "--user", "alice", "--name", "ci", "--expires", "1h")
	token = strings.TrimSpace(token)
	require.Regexp(t, `^pgc_[A-Za-z0-9_-]{43}$`, token, "stdout holds the token alone")
	require.Contains(t, errOut, "shown only now")
	_, errOut = cli(2, "", "token", "create", "--user", "nobody", "--name", "x")
	require.Contains(t, errOut, `no user named "nobody"`)
	_, errOut = cli(2, "", "token", "create", "--name", "x")
	require.Contains(t, errOut, "--user is required")
	_, errOut = cli(2, "", "token", "create", "--user", "alice")
	require.Contains(t, errOut, "name")
	db, err := pgx.Connect(t.Context(), store.DSN("pgc"))
	require.NoError(t, err)
	defer db.Close(t.Context())
	var stored int
	require.NoError(t, db.QueryRow(t.Context(),
		`SELECT count(*) FROM public.api_tokens WHERE token_sha256 = sha256(convert_to($1, 'UTF8'))`, token).Scan(&stored))
	require.Equal(t, 1, stored, "only the SHA-256 is stored")
	var clear int
	require.NoError(t, db.QueryRow(t.Context(), `SELECT count(*) FROM public.api_tokens t
		WHERE strpos(to_jsonb(t)::text, $1) > 0`, strings.TrimPrefix(token, "pgc_")).Scan(&clear))
	require.Zero(t, clear)

	out, _ := cli(0, "", "token", "list", "--json")
	var tokens []map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &tokens))
	require.Len(t, tokens, 1)
	require.NotContains(t, out, token)
	_, errOut = cli(2, "", "token", "revoke", "abc")
	require.Contains(t, errOut, "not a token id")
	cli(0, "", "token", "revoke", "1")
	_, errOut = cli(1, "", "token", "revoke", "1")
	require.Contains(t, errOut, "already revoked")

	cli(0, pw+"\n", "connection", "add", "--name", "a", "--host", "h", "--username", "u", "--owner-username", "alice",
		"--password-stdin")
	cli(0, "", "connection", "update", "a", "--port", "6543")
	cli(0, "", "connection", "disable", "a")
	cli(0, "", "probe", "set", "pg_stat_database", "--interval", "30s")
	cli(0, "", "connection", "remove", "a")
	cli(0, "", "user", "disable", "alice")

	out, _ = cli(0, "", "audit", "--json", "--limit", "100")
	var rows []struct {
		Actor, Action, Target string
		Details               map[string]any
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rows))
	var actions []string
	for i := len(rows) - 1; i >= 0; i-- {
		require.True(t, strings.HasPrefix(rows[i].Actor, "cli"), rows[i].Actor)
		actions = append(actions, rows[i].Action)
	}
	require.Equal(t, []string{"user.add", "user.add", "token.create", "token.revoke", "connection.create",
		"connection.update", "connection.disable", "probe.set", "connection.delete", "user.disable"}, actions)
	require.Contains(t, out, `"password"`, "the create names the password field")
	table, _ := cli(0, "", "audit")
	require.Contains(t, table, "connection.update")
	cli(2, "", "audit", "--limit", "0")
	for i, p := range printed {
		require.NotContains(t, p, pw, "output %d", i)
	}
}
