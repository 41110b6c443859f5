package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pgcollector/pgcollector/internal/procinfo"
)

// ProcessCPU is the user plus system CPU a process has used so far.
func ProcessCPU(pid int) (time.Duration, error) {
	st, err := procinfo.Of(pid)
	return st.CPU, err
}

// PeakRSS is VmHWM, the largest resident set the process has had since it
// started or since ResetPeakRSS, in bytes.
func PeakRSS(pid int) (int64, error) {
	_, peak, err := procinfo.Memory(pid)
	return peak, err
}

// RSS is VmRSS, the resident set now, in bytes.
func RSS(pid int) (int64, error) {
	rss, _, err := procinfo.Memory(pid)
	return rss, err
}

// ResetPeakRSS starts a new VmHWM period, so that a measuring window can
// report its own peak.
func ResetPeakRSS(pid int) error { return procinfo.ResetPeakRSS(pid) }

// TreeCPU is the CPU used by a process and all its children so far: its own
// time, the time of children it has already waited for (cutime, cstime:
// backends that exited) and the time of the children still running. For
// a postmaster that is the whole cluster's CPU, whichever sessions came
// and went in between.
func TreeCPU(pid int) (time.Duration, error) {
	root, err := procinfo.Of(pid)
	if err != nil {
		return 0, err
	}
	total := root.CPU + root.ChildrenCPU
	children, err := procinfo.Children(pid)
	if err != nil {
		return 0, err
	}
	for _, st := range children {
		total += st.CPU
	}
	return total, nil
}

// renice sets the niceness of the postmaster of dataDir and of every
// process it has forked so far; backends forked later inherit it.
func renice(dataDir string, n int) error {
	pid, err := PostmasterPID(dataDir)
	if err != nil {
		return err
	}
	if err := syscall.Setpriority(syscall.PRIO_PROCESS, pid, n); err != nil {
		return fmt.Errorf("renice postmaster %d: %w", pid, err)
	}
	children, err := procinfo.Children(pid)
	if err != nil {
		return err
	}
	for _, child := range children {
		_ = syscall.Setpriority(syscall.PRIO_PROCESS, child.PID, n) // a backend may end meanwhile
	}
	return nil
}

// PostmasterPID reads the first line of a data directory's postmaster.pid.
func PostmasterPID(dataDir string) (int, error) {
	raw, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(raw), "\n")
	return strconv.Atoi(strings.TrimSpace(line))
}

// ReclaimCPU is the CPU the kernel's memory reclaim threads (kswapd,
// kdamond) have used so far: machine-wide work that grows with the
// memory the monitored clusters' sessions hold.
func ReclaimCPU() time.Duration {
	threads, _ := procinfo.Processes(func(st procinfo.Stat) bool {
		return strings.HasPrefix(st.Comm, "kswapd") || strings.HasPrefix(st.Comm, "kdamond")
	})
	var total time.Duration
	for _, st := range threads {
		total += st.CPU
	}
	return total
}

// SelfCPU is the user plus system CPU this process has used so far.
func SelfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
