package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/pgcollector/pgcollector/internal/pgtest"
)

// systemStatsDir is the test build of the system_stats extension, found
// next to this source file so that it works from any test's directory.
func systemStatsDir() (string, error) {
	_, self, _, ok := runtime.Caller(0)
	if !ok {
		return "", fmt.Errorf("locate internal/e2e sources")
	}
	return filepath.Join(filepath.Dir(self), "..", "pgtest", "testdata", "system_stats"), nil
}

// InstallSystemStats installs the test build of the system_stats extension
// (internal/pgtest/testdata/system_stats: the real extension's functions
// and result columns, written in SQL over /proc) into the cluster's
// installation and creates it in database db.
//
// Like the real extension it lets only superusers and members of
// monitor_system_stats call the functions; the membership is granted to
// pg_monitor here, so every pg_monitor role a test collects as can read
// them. README tells operators to grant it to their monitoring role.
func InstallSystemStats(ctx context.Context, c *pgtest.Cluster, db string) error {
	dir, err := systemStatsDir()
	if err != nil {
		return err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("read the system_stats test build: %w", err)
	}
	files := map[string]string{}
	for _, e := range entries {
		content, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return fmt.Errorf("read the system_stats test build: %w", err)
		}
		files[e.Name()] = string(content)
	}
	if err := pgtest.InstallExtension(c.ShareDir, "system_stats", files); err != nil {
		return err
	}
	return execAll(ctx, c, db,
		"CREATE EXTENSION IF NOT EXISTS system_stats",
		"GRANT monitor_system_stats TO pg_monitor")
}
