package bench

import (
	"context"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/internal/pgtest"
)

func TestReniceReachesBackendsForkedLater(t *testing.T) {
	c := pgtest.Start(t, pgtest.Options{})
	require.NoError(t, renice(c.DataDir, 7))
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
	require.NoError(t, err)
	defer conn.Close(ctx)
	var backend int
	require.NoError(t, conn.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&backend))
	for _, pid := range []int{backend, mustPostmaster(t, c.DataDir)} {
		prio, err := syscall.Getpriority(syscall.PRIO_PROCESS, pid)
		require.NoError(t, err)
		require.Equal(t, 20-7, prio, "getpriority returns 20 - nice (pid %d)", pid)
	}
}

func mustPostmaster(t *testing.T, dataDir string) int {
	pid, err := PostmasterPID(dataDir)
	require.NoError(t, err)
	return pid
}
