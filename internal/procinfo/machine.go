package procinfo

import (
	"fmt"
	"strings"

	"github.com/prometheus/procfs"
)

// Host is what the benchmark reports of the machine it ran on.
type Host struct {
	MemTotal, MemAvailable int64 // bytes; 0 when unknown
	CPUModel               string
	Kernel                 string
	LoadAvg                string // the 1, 5 and 15 minute load averages; "?" when unknown
}

// ReadHost reads the machine-wide files of /proc. What cannot be read is
// left at its zero value.
func ReadHost() Host {
	h := Host{LoadAvg: "?"}
	fs, err := procfs.NewDefaultFS()
	if err != nil {
		return h
	}
	h.MemTotal, h.MemAvailable = memory(fs)
	if cpus, err := fs.CPUInfo(); err == nil && len(cpus) > 0 {
		h.CPUModel = cpus[0].ModelName
	}
	if release, err := fs.SysctlStrings("kernel.osrelease"); err == nil {
		h.Kernel = strings.Join(release, " ")
	}
	h.LoadAvg = LoadAvg()
	return h
}

// MemAvailable is the kernel's estimate of memory available for new work,
// in bytes (0 when unknown).
func MemAvailable() int64 {
	fs, err := procfs.NewDefaultFS()
	if err != nil {
		return 0
	}
	_, avail := memory(fs)
	return avail
}

func memory(fs procfs.FS) (total, available int64) {
	mi, err := fs.Meminfo()
	if err != nil {
		return 0, 0
	}
	if mi.MemTotalBytes != nil {
		total = int64(*mi.MemTotalBytes)
	}
	if mi.MemAvailableBytes != nil {
		available = int64(*mi.MemAvailableBytes)
	}
	return total, available
}

// LoadAvg is the 1, 5 and 15 minute load averages, as /proc/loadavg
// gives them, or "?".
func LoadAvg() string {
	fs, err := procfs.NewDefaultFS()
	if err != nil {
		return "?"
	}
	la, err := fs.LoadAvg()
	if err != nil {
		return "?"
	}
	return fmt.Sprintf("%.2f %.2f %.2f", la.Load1, la.Load5, la.Load15)
}
