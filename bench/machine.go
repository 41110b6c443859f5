package bench

import (
	"fmt"
	"os"
	"runtime"
	"strings"
)

// Machine describes where the figures were taken.
type Machine struct {
	Cores     int
	MemoryGiB float64
	CPUModel  string
	Kernel    string
	Go        string
	Postgres  string // server_version of the clusters
	LoadAvg   string // /proc/loadavg when the run started: the machine is shared
}

// ReadMachine reads the machine's description from /proc. postgres is
// filled in by the caller once a cluster runs.
func ReadMachine() Machine {
	m := Machine{Cores: runtime.NumCPU(), Go: runtime.Version()}
	if raw, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		for _, line := range strings.Split(string(raw), "\n") {
			if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				_, _ = fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &kb)
			}
		}
		m.MemoryGiB = float64(kb) / (1 << 20)
	}
	if raw, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(raw), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if raw, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(raw))
	}
	m.LoadAvg = LoadAvg()
	return m
}

// LoadAvg is the first three fields of /proc/loadavg.
func LoadAvg() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(raw))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func (m Machine) String() string {
	return fmt.Sprintf("%d cores (%s), %.1f GiB memory, Linux %s, PostgreSQL %s, %s; load average at start %s",
		m.Cores, m.CPUModel, m.MemoryGiB, m.Kernel, m.Postgres, m.Go, m.LoadAvg)
}

// MemAvailable is the kernel's estimate of memory available for new
// work, in bytes (0 when unknown).
func MemAvailable() int64 {
	raw, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "MemAvailable:"); ok {
			var kb int64
			_, _ = fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &kb)
			return kb * 1024
		}
	}
	return 0
}

// lowMemory is where the benchmark gives up rather than push a shared
// machine into the OOM killer: thousands of monitored sessions cost the
// clusters a few MB each.
const lowMemory = 2 << 30

// checkMemory fails when the machine is about to run out of memory.
func checkMemory() error {
	if m := MemAvailable(); m > 0 && m < lowMemory {
		return fmt.Errorf("only %d MB of memory left on the machine: stopping before the OOM killer does", m>>20)
	}
	return nil
}
