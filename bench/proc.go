package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTick is the unit of the CPU times in /proc/<pid>/stat. Linux
// reports them in USER_HZ, which is 100 on every architecture Go supports.
const clockTick = 10 * time.Millisecond

// procStat is what the benchmark reads of /proc/<pid>/stat.
type procStat struct {
	comm                         string
	ppid                         int
	utime, stime, cutime, cstime time.Duration
}

// readStat parses /proc/<pid>/stat. The command name may contain spaces
// and parentheses, so fields are counted from the last ')'.
func readStat(pid int) (procStat, error) {
	raw, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return procStat{}, err
	}
	open, i := bytes.IndexByte(raw, '('), bytes.LastIndexByte(raw, ')')
	if open < 0 || i < open {
		return procStat{}, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(raw[i+1:]))
	if len(f) < 15 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	// f[0] is field 3 of proc(5): state; ppid is field 4, utime 14.
	num := func(k int) int64 { n, _ := strconv.ParseInt(f[k], 10, 64); return n }
	ticks := func(k int) time.Duration { return time.Duration(num(k)) * clockTick }
	return procStat{comm: string(raw[open+1 : i]), ppid: int(num(1)), utime: ticks(11), stime: ticks(12), cutime: ticks(13), cstime: ticks(14)}, nil
}

// ProcessCPU is the user plus system CPU a process has used so far.
func ProcessCPU(pid int) (time.Duration, error) {
	st, err := readStat(pid)
	if err != nil {
		return 0, err
	}
	return st.utime + st.stime, nil
}

// statusKB reads one "Key: N kB" line of /proc/<pid>/status.
func statusKB(pid int, key string) (int64, error) {
	f, err := os.Open(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), key+":"); ok {
			return strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		}
	}
	return 0, fmt.Errorf("/proc/%d/status: no %s", pid, key)
}

// PeakRSS is VmHWM, the largest resident set the process has had since it
// started or since ResetPeakRSS, in bytes.
func PeakRSS(pid int) (int64, error) {
	kb, err := statusKB(pid, "VmHWM")
	return kb * 1024, err
}

// RSS is VmRSS, the resident set now, in bytes.
func RSS(pid int) (int64, error) {
	kb, err := statusKB(pid, "VmRSS")
	return kb * 1024, err
}

// ResetPeakRSS starts a new VmHWM period (Linux 4.0+, clear_refs value 5),
// so that a measuring window can report its own peak.
func ResetPeakRSS(pid int) error {
	return os.WriteFile(filepath.Join("/proc", strconv.Itoa(pid), "clear_refs"), []byte("5"), 0)
}

// TreeCPU is the CPU used by a process and all its children so far: its own
// time, the time of children it has already waited for (cutime, cstime:
// backends that exited) and the time of the children still running. For
// a postmaster that is the whole cluster's CPU, whichever sessions came
// and went in between.
func TreeCPU(pid int) (time.Duration, error) {
	root, err := readStat(pid)
	if err != nil {
		return 0, err
	}
	total := root.utime + root.stime + root.cutime + root.cstime
	children, err := childrenOf(pid)
	if err != nil {
		return 0, err
	}
	for _, st := range children {
		total += st.utime + st.stime
	}
	return total, nil
}

// childrenOf reads the stat of every running process whose parent is pid.
func childrenOf(pid int) (map[int]procStat, error) {
	return processes(func(st procStat) bool { return st.ppid == pid })
}

// processes reads the stat of every running process and keeps those keep
// accepts; a process that ends meanwhile is left out.
func processes(keep func(procStat) bool) (map[int]procStat, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	out := map[int]procStat{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, err := readStat(pid); err == nil && keep(st) {
			out[pid] = st
		}
	}
	return out, nil
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
	children, err := childrenOf(pid)
	if err != nil {
		return err
	}
	for child := range children {
		_ = syscall.Setpriority(syscall.PRIO_PROCESS, child, n) // a backend may end meanwhile
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
	threads, _ := processes(func(st procStat) bool {
		return strings.HasPrefix(st.comm, "kswapd") || strings.HasPrefix(st.comm, "kdamond")
	})
	var total time.Duration
	for _, st := range threads {
		total += st.utime + st.stime
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

// onCPU is the time a process has run on a CPU, in nanoseconds: the first
// field of /proc/<pid>/schedstat, finer than the clock ticks of
// /proc/<pid>/stat.
func onCPU(pid int) (time.Duration, error) {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/schedstat")
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(raw))
	if len(f) == 0 {
		return 0, fmt.Errorf("/proc/%d/schedstat: empty", pid)
	}
	ns, err := strconv.ParseInt(f[0], 10, 64)
	return time.Duration(ns), err
}
