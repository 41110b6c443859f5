package pgtest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// helperEnv makes the test binary act as a process that starts a cluster
// and then hangs, standing in for a test binary that dies mid-test.
const helperEnv = "PGTEST_ORPHAN_HELPER"

// TestServerDiesWithTestBinary SIGKILLs a process that owns a running
// cluster, so no Close or t.Cleanup runs, and checks that the server goes
// away by itself instead of leaking into the machine.
func TestServerDiesWithTestBinary(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(os.Args[0], "-test.run=^TestOrphanHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())

	var pid int
	var dir string
	scanner := bufio.NewScanner(out)
	for scanner.Scan() {
		if n, _ := fmt.Sscanf(scanner.Text(), "postmaster %d %s", &pid, &dir); n == 2 {
			break
		}
	}
	require.NotZero(t, pid, "helper did not report its postmaster")
	// Close never runs in the killed helper, so its files are removed here.
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	children := childrenOf(pid)
	require.NotEmpty(t, children)

	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()

	deadline := time.Now().Add(15 * time.Second)
	for _, p := range append(children, pid) {
		for alive(p) {
			require.True(t, time.Now().Before(deadline), "server process %d outlived its test binary", p)
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// TestOrphanHelper is not a test on its own: it only does something when
// started by TestServerDiesWithTestBinary.
func TestOrphanHelper(t *testing.T) {
	if os.Getenv(helperEnv) == "" {
		return
	}
	c, err := StartCluster(context.Background(), Options{})
	require.NoError(t, err)
	c.mu.Lock()
	fmt.Printf("postmaster %d %s\n", c.pm.cmd.Process.Pid, c.dir)
	c.mu.Unlock()
	time.Sleep(time.Hour)
}
