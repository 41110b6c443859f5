package bench

import (
	"fmt"
	"runtime"

	"github.com/pgcollector/pgcollector/internal/procinfo"
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
	h := procinfo.ReadHost()
	return Machine{
		Cores: runtime.NumCPU(), Go: runtime.Version(), MemoryGiB: float64(h.MemTotal) / (1 << 30),
		CPUModel: h.CPUModel, Kernel: h.Kernel, LoadAvg: h.LoadAvg,
	}
}

// LoadAvg is the 1, 5 and 15 minute load averages.
func LoadAvg() string { return procinfo.LoadAvg() }

func (m Machine) String() string {
	return fmt.Sprintf("%d cores (%s), %.1f GiB memory, Linux %s, PostgreSQL %s, %s; load average at start %s",
		m.Cores, m.CPUModel, m.MemoryGiB, m.Kernel, m.Postgres, m.Go, m.LoadAvg)
}

// lowMemory is where the benchmark gives up rather than push a shared
// machine into the OOM killer: thousands of monitored sessions cost the
// clusters a few MB each.
const lowMemory = 2 << 30

// checkMemory fails when the machine is about to run out of memory.
func checkMemory() error {
	if m := procinfo.MemAvailable(); m > 0 && m < lowMemory {
		return fmt.Errorf("only %d MB of memory left on the machine: stopping before the OOM killer does", m>>20)
	}
	return nil
}
