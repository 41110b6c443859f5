package bench

import (
	"time"

	"github.com/pgcollector/pgcollector/bench/fleetsim"
)

// ScaleStep is one fleet size collected from the simulator.
type ScaleStep struct {
	Servers  int
	Settings string // the collector's settings that differ from the defaults
	Steady   Steady
	Due      float64 // slots due in the window
	// The simulator over the window: its own CPU (its process, apart from
	// the collector's) and what it served.
	SimCPU              time.Duration
	SimBefore, SimAfter fleetsim.StatsSnapshot
	Err                 string // why the step ended early
}

// Cores is the collector's CPU over the window in cores.
func (s ScaleStep) Cores() float64 {
	d := s.Steady.End.Sub(s.Steady.Start).Seconds()
	if d <= 0 {
		return 0
	}
	return s.Steady.CPU.Seconds() / d
}

// SimRows is the rows the simulator served in the window.
func (s ScaleStep) SimRows() int64 { return s.SimAfter.RowsServed - s.SimBefore.RowsServed }

// SimMicrosPerRow is the simulator's CPU per row served, in µs.
func (s ScaleStep) SimMicrosPerRow() float64 {
	if n := s.SimRows(); n > 0 {
		return s.SimCPU.Seconds() / float64(n) * 1e6
	}
	return 0
}

// Held reports whether the step collected every slot: no stale or
// skipped slot in the window, and a window that began after start-up.
func (s ScaleStep) Held() bool {
	return s.Err == "" && s.Steady.Rows > 0 && s.Steady.Stale == 0 && !s.Steady.WarmupCapped
}

// Ceiling is the largest step that held, and servers per collector core
// at it; ok is false when none held.
func Ceiling(steps []ScaleStep) (servers int, perCore float64, ok bool) {
	for _, s := range steps {
		if s.Held() && s.Servers > servers && s.Cores() > 0 {
			servers, perCore, ok = s.Servers, float64(s.Servers)/s.Cores(), true
		}
	}
	return
}

// NextCeilingSize is the fleet size halfway between the largest step that
// held and the smallest larger step that did not, rounded down to a
// multiple of granularity; ok is false when there is no such pair or the
// two are too close to split.
func NextCeilingSize(steps []ScaleStep, granularity int) (n int, ok bool) {
	held, failed := 0, 0
	for _, s := range steps {
		if s.Held() && s.Servers > held {
			held = s.Servers
		}
	}
	if held == 0 {
		return 0, false
	}
	for _, s := range steps {
		if !s.Held() && s.Servers > held && (failed == 0 || s.Servers < failed) {
			failed = s.Servers
		}
	}
	if failed == 0 {
		return 0, false
	}
	n = (held + failed) / 2 / granularity * granularity
	if n <= held || n >= failed {
		return 0, false
	}
	return n, true
}

// majors lists the fleet sizes' real clusters' majors as text.
func (r *Report) majors() string {
	if r.Versions == "" {
		return "(harness default)"
	}
	return r.Versions
}
