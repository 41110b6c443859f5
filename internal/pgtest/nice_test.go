package pgtest

import (
	"context"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

func TestReniceReachesBackendsForkedLater(t *testing.T) {
	c := Start(t, Options{})
	require.NoError(t, c.Renice(7))
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
	require.NoError(t, err)
	defer conn.Close(ctx)
	var pid int
	require.NoError(t, conn.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid))
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	require.NoError(t, err)
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	require.Equal(t, "7", fields[16], "nice of a backend forked after Renice") // field 19 of stat
	prio, err := syscall.Getpriority(syscall.PRIO_PROCESS, c.pm.cmd.Process.Pid)
	require.NoError(t, err)
	require.Equal(t, 20-7, prio, "getpriority returns 20 - nice")
}
