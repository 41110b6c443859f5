package main

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/bus"
)

func TestMemoryLimitChoice(t *testing.T) {
	tests := []struct {
		name       string
		setting    bus.ByteSize
		gomemlimit string
		cgroup     int64
		want       int64
		source     string
	}{
		{"setting wins", 200 * bus.MiB, "1GiB", 4 << 30, 200 << 20, "PGC_MEMORY_LIMIT"},
		{"GOMEMLIMIT is left to the runtime", 0, "300MiB", 4 << 30, 0, "GOMEMLIMIT"},
		{"90% of the container's limit", 0, "", 1000 << 20, 900 << 20, "cgroup memory limit"},
		{"none", 0, "", 0, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, source := chooseMemoryLimit(tc.setting, tc.gomemlimit, tc.cgroup)
			require.Equal(t, tc.want, got)
			require.Equal(t, tc.source, source)
		})
	}
	require.Equal(t, int64(0), parseCgroupLimit("max\n"))
	require.Equal(t, int64(0), parseCgroupLimit("9223372036854771712\n"), "cgroup v1 unlimited")
	require.Equal(t, int64(536870912), parseCgroupLimit("536870912\n"))
}
