package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// TestRunStartsNothingWhenAConstructorFails makes the HTTP server's
// constructor fail after the bus and the catalogue cache exist: run must
// exit 2 naming the setting and leave no goroutine behind, which it did
// when the cache was started before the later constructors ran.
func TestRunStartsNothingWhenAConstructorFails(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "secret")
	require.NoError(t, os.WriteFile(secretFile, []byte("run-build-test-secret\n"), 0o600))
	t.Setenv("PGC_DATASTORE_URL", "postgres://nobody@127.0.0.1:1/none?connect_timeout=1")
	t.Setenv("PGC_SECRET_FILE", secretFile)
	t.Setenv("PGC_DATA_DIR", filepath.Join(dir, "data"))
	t.Setenv("PGC_HTTP_ADDR", "no-port-here")

	code, _, errOut := runCLI(t, "", "run")
	require.Equal(t, 2, code, errOut)
	require.Contains(t, errOut, "PGC_HTTP_ADDR")
}
