package probes_test

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/internal/pgtest"
)

// The registry test checks the system_stats probes against the test build
// of the extension, in the database its clusters collect from.
func init() {
	installSystemStats = func(t *testing.T, c *pgtest.Cluster) { InstallSystemStats(t, c, "postgres") }
}

// InstallSystemStats installs the test build of the system_stats extension
// (internal/pgtest/testdata/system_stats: the real extension's functions
// and result columns, written in SQL over /proc) into the cluster's
// installation and creates it in database db.
//
// Like the real extension, it lets only superusers and members of
// monitor_system_stats call the functions. The collector's role needs that
// membership; here it is granted to pg_monitor, so that every pg_monitor
// role the tests collect as can read the functions.
func InstallSystemStats(t testing.TB, c *pgtest.Cluster, db string) {
	t.Helper()
	_, self, _, ok := runtime.Caller(0)
	require.True(t, ok, "locate systemstats_ext_test.go")
	dir := filepath.Join(filepath.Dir(self), "..", "internal", "pgtest", "testdata", "system_stats")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	files := map[string]string{}
	for _, e := range entries {
		content, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		files[e.Name()] = string(content)
	}
	require.NoError(t, pgtest.InstallExtension(c.ShareDir, "system_stats", files))
	c.Exec(t, db,
		"CREATE EXTENSION IF NOT EXISTS system_stats",
		"GRANT monitor_system_stats TO pg_monitor")
}
