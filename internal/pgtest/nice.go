package pgtest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Renice sets the scheduling niceness of the running server's postmaster
// and of every process it has forked so far; backends forked later inherit
// it from the postmaster. The fleet benchmark uses it to run the simulated
// monitored servers, which stand for other machines, behind the collector
// on a shared machine.
func (c *Cluster) Renice(n int) error {
	if c.pm == nil {
		return errors.New("pgtest: renice: the server is not running")
	}
	pid := c.pm.cmd.Process.Pid
	if err := syscall.Setpriority(syscall.PRIO_PROCESS, pid, n); err != nil {
		return fmt.Errorf("renice postmaster %d: %w", pid, err)
	}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil {
			continue // ended meanwhile
		}
		// pid (comm) state ppid ...: comm may hold spaces and parentheses.
		s := string(b)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) < 2 || fields[1] != strconv.Itoa(pid) {
			continue
		}
		child, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(path, "/proc/"), "/stat"))
		_ = syscall.Setpriority(syscall.PRIO_PROCESS, child, n) // a backend may end meanwhile
	}
	return nil
}
