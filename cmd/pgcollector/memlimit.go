package main

import (
	"log/slog"
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/pgcollector/pgcollector/bus"
)

// cgroupMemoryFiles hold the memory limit of the process's cgroup, v2 first.
var cgroupMemoryFiles = []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}

// applyMemoryLimit sets the Go runtime's soft memory limit, which makes the
// garbage collector work harder as the process nears it instead of letting
// the heap grow to twice what is live. PGC_MEMORY_LIMIT wins; without it
// GOMEMLIMIT is left to the runtime; without either, 90% of a cgroup
// (container) memory limit is used, so a container is not killed for
// memory the collector could have collected. It never fails: past the limit
// the collector only spends more CPU on collection.
func applyMemoryLimit(setting bus.ByteSize, log *slog.Logger) {
	limit, source := chooseMemoryLimit(setting, os.Getenv("GOMEMLIMIT"), cgroupLimit())
	if limit > 0 {
		debug.SetMemoryLimit(limit)
	}
	if source != "" {
		log.Info("memory limit", "limit", bus.ByteSize(debug.SetMemoryLimit(-1)).String(), "from", source)
	}
}

// chooseMemoryLimit returns the limit to set (0: leave the runtime's) and
// where it came from (empty: there is none).
func chooseMemoryLimit(setting bus.ByteSize, gomemlimit string, cgroup int64) (int64, string) {
	switch {
	case setting > 0:
		return int64(setting), "PGC_MEMORY_LIMIT"
	case gomemlimit != "":
		return 0, "GOMEMLIMIT"
	case cgroup > 0:
		return cgroup / 10 * 9, "cgroup memory limit"
	}
	return 0, ""
}

// cgroupLimit reads the cgroup memory limit in bytes; 0 means none.
func cgroupLimit() int64 {
	for _, f := range cgroupMemoryFiles {
		raw, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		return parseCgroupLimit(string(raw))
	}
	return 0
}

// parseCgroupLimit reads memory.max ("max" or bytes) or v1's
// limit_in_bytes, whose "unlimited" is a number near the int64 maximum.
func parseCgroupLimit(text string) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(text), 10, 64)
	if err != nil || n <= 0 || n >= math.MaxInt64/2 {
		return 0
	}
	return n
}
