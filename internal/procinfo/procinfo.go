package procinfo

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/prometheus/procfs"
)

// clockTick is the unit of the CPU times in /proc/<pid>/stat: USER_HZ,
// which is 100 on every architecture Go supports.
const clockTick = 10 * time.Millisecond

// Stat is what the project reads of a process's /proc/<pid>/stat.
type Stat struct {
	PID   int
	Comm  string
	State string // R, S, D, T, Z, X, ...
	PPID  int
	// CPU is the process's own user plus system time; ChildrenCPU that of
	// the children it has waited for (cutime + cstime).
	CPU, ChildrenCPU time.Duration
}

// Gone reports whether the process has ended: a zombie has released its
// memory and shared memory already.
func (s Stat) Gone() bool { return s.State == "Z" || s.State == "X" }

func fromProc(p procfs.Proc) (Stat, error) {
	st, err := p.Stat()
	if err != nil {
		return Stat{}, err
	}
	return Stat{
		PID:         st.PID,
		Comm:        st.Comm,
		State:       st.State,
		PPID:        st.PPID,
		CPU:         time.Duration(st.UTime+st.STime) * clockTick,
		ChildrenCPU: time.Duration(st.CUTime+st.CSTime) * clockTick,
	}, nil
}

func proc(pid int) (procfs.Proc, error) {
	fs, err := procfs.NewDefaultFS()
	if err != nil {
		return procfs.Proc{}, err
	}
	return fs.Proc(pid)
}

// Of reads the stat of one process.
func Of(pid int) (Stat, error) {
	p, err := proc(pid)
	if err != nil {
		return Stat{}, err
	}
	return fromProc(p)
}

// Alive reports whether pid exists and has not ended.
func Alive(pid int) bool {
	st, err := Of(pid)
	return err == nil && !st.Gone()
}

// Processes reads the stat of every process and keeps those keep accepts;
// a process that ends meanwhile is left out.
func Processes(keep func(Stat) bool) ([]Stat, error) {
	fs, err := procfs.NewDefaultFS()
	if err != nil {
		return nil, err
	}
	all, err := fs.AllProcs()
	if err != nil {
		return nil, err
	}
	var out []Stat
	for _, p := range all {
		if st, err := fromProc(p); err == nil && keep(st) {
			out = append(out, st)
		}
	}
	return out, nil
}

// Children lists the running processes whose parent is pid.
func Children(pid int) ([]Stat, error) {
	return Processes(func(st Stat) bool { return st.PPID == pid })
}

// Threads reads the stat of every thread of pid.
func Threads(pid int) ([]Stat, error) {
	fs, err := procfs.NewDefaultFS()
	if err != nil {
		return nil, err
	}
	threads, err := fs.AllThreads(pid)
	if err != nil {
		return nil, err
	}
	var out []Stat
	for _, t := range threads {
		if st, err := fromProc(t); err == nil { // a thread may end meanwhile
			out = append(out, st)
		}
	}
	return out, nil
}

// Memory is a process's resident set now and its peak (VmRSS, VmHWM), in
// bytes.
func Memory(pid int) (rss, peak int64, err error) {
	p, err := proc(pid)
	if err != nil {
		return 0, 0, err
	}
	st, err := p.NewStatus()
	if err != nil {
		return 0, 0, err
	}
	return int64(st.VmRSS), int64(st.VmHWM), nil
}

// ResetPeakRSS starts a new VmHWM period (Linux 4.0+, clear_refs value 5),
// so that a measuring window can report its own peak. procfs only reads.
func ResetPeakRSS(pid int) error {
	return os.WriteFile("/proc/"+strconv.Itoa(pid)+"/clear_refs", []byte("5"), 0)
}

// OnCPU is the time a process has run on a CPU (the first field of
// /proc/<pid>/schedstat), in nanoseconds: finer than the clock ticks of
// its stat.
func OnCPU(pid int) (time.Duration, error) {
	p, err := proc(pid)
	if err != nil {
		return 0, err
	}
	s, err := p.Schedstat()
	if err != nil {
		return 0, fmt.Errorf("schedstat of %d: %w", pid, err)
	}
	return time.Duration(s.RunningNanoseconds), nil
}
