package pgtest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// helloFiles is a minimal SQL-only extension, the shape of the test-only
// stand-ins other packages install (e.g. system_stats).
var helloFiles = map[string]string{
	"pgtest_hello.control": "comment = 'pgtest fixture'\ndefault_version = '1.0'\nrelocatable = true\n",
	"pgtest_hello--1.0.sql": `\echo Use "CREATE EXTENSION pgtest_hello" to load this file. \quit
CREATE FUNCTION pgtest_hello() RETURNS text LANGUAGE sql AS $$ SELECT 'hello'::text $$;
`,
}

func TestInstallExtensionCreateExtension(t *testing.T) {
	t.Parallel()
	for _, major := range Versions() {
		t.Run(fmt.Sprintf("pg%d", major), func(t *testing.T) {
			t.Parallel()
			c := Start(t, Options{Version: major})
			require.NoError(t, InstallExtension(c.ShareDir, "pgtest_hello", helloFiles))
			require.NoError(t, InstallExtension(c.ShareDir, "pgtest_hello", helloFiles), "second install")

			c.Exec(t, "postgres", "CREATE EXTENSION pgtest_hello")
			conn := connect(t, c.DSN("postgres"))
			require.Equal(t, "hello", queryString(t, conn, "SELECT pgtest_hello()"))
			require.Equal(t, "1.0", queryString(t, conn,
				"SELECT extversion FROM pg_extension WHERE extname = 'pgtest_hello'"))
		})
	}
}

func TestInstallExtensionFiles(t *testing.T) {
	t.Parallel()
	share := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(share, "extension"), 0o755))
	control := filepath.Join(share, "extension", "pgtest_hello.control")

	require.NoError(t, InstallExtension(share, "pgtest_hello", helloFiles))
	info, err := os.Stat(control)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o644), info.Mode().Perm(), "the server's user must read it")

	// A changed file is replaced, an unchanged one is left alone.
	changed := map[string]string{"pgtest_hello.control": "default_version = '2.0'\n"}
	require.NoError(t, InstallExtension(share, "pgtest_hello", changed))
	got, err := os.ReadFile(control)
	require.NoError(t, err)
	require.Equal(t, changed["pgtest_hello.control"], string(got))
	entries, err := os.ReadDir(filepath.Join(share, "extension"))
	require.NoError(t, err)
	require.Len(t, entries, 2, "no temp files left behind")
}

func TestInstallExtensionRejects(t *testing.T) {
	t.Parallel()
	share := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(share, "extension"), 0o755))
	tests := []struct {
		name, share, ext, file string
	}{
		{"empty name", share, "", "x.control"},
		{"name with slash", share, "a/b", "a/b.control"},
		{"path traversal", share, "pgtest_hello", "../pgtest_hello.control"},
		{"subdirectory", share, "pgtest_hello", "sub/pgtest_hello.sql"},
		{"other extension's file", share, "pgtest_hello", "plpgsql.control"},
		{"prefix without separator", share, "pgtest_hello", "pgtest_hello_evil.control"},
		{"no extension dir", t.TempDir(), "pgtest_hello", "pgtest_hello.control"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := InstallExtension(tt.share, tt.ext, map[string]string{tt.file: "x"})
			require.Error(t, err)
		})
	}
	entries, err := os.ReadDir(filepath.Join(share, "extension"))
	require.NoError(t, err)
	require.Empty(t, entries)
}
