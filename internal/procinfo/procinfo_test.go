package procinfo_test

import (
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/internal/procinfo"
)

func TestSelfAndChildren(t *testing.T) {
	self, err := procinfo.Of(os.Getpid())
	require.NoError(t, err)
	require.Equal(t, os.Getppid(), self.PPID)
	require.False(t, self.Gone())

	cmd := exec.Command("sleep", "30")
	require.NoError(t, cmd.Start())
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	children, err := procinfo.Children(os.Getpid())
	require.NoError(t, err)
	var found bool
	for _, c := range children {
		found = found || (c.PID == cmd.Process.Pid && c.Comm == "sleep")
	}
	require.True(t, found, "sleep among the children: %+v", children)
	require.True(t, procinfo.Alive(cmd.Process.Pid))

	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()
	require.False(t, procinfo.Alive(cmd.Process.Pid))
}

func TestCPUAndMemory(t *testing.T) {
	deadline := time.Now().Add(50 * time.Millisecond)
	for time.Now().Before(deadline) { //nolint:revive // burn CPU to have some to read
	}
	on, err := procinfo.OnCPU(os.Getpid())
	require.NoError(t, err)
	require.Greater(t, on, 10*time.Millisecond)
	rss, peak, err := procinfo.Memory(os.Getpid())
	require.NoError(t, err)
	require.Positive(t, rss)
	require.GreaterOrEqual(t, peak, rss)
	require.NoError(t, procinfo.ResetPeakRSS(os.Getpid()))

	threads, err := procinfo.Threads(os.Getpid())
	require.NoError(t, err)
	require.NotEmpty(t, threads)
}
