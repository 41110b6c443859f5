package fetcher

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/bus"
)

func TestStaleJob(t *testing.T) {
	slot := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	j := bus.Job{Probe: "pg_connectivity", IntervalSeconds: 30, ScheduledAt: slot}
	for _, tc := range []struct {
		sole       bool
		deliveries uint64
		after      time.Duration
		stale      bool
	}{
		{false, 1, 59 * time.Second, false},
		{false, 1, 61 * time.Second, true},
		{true, 1, time.Hour, false}, // the pair's only job: run it, late
		{true, 0, time.Hour, false},
		{true, 2, 61 * time.Second, true}, // redelivered: a newer job may be out
		{true, 2, 59 * time.Second, false},
	} {
		j.Sole = tc.sole
		age, stale := staleJob(j, tc.deliveries, slot.Add(tc.after))
		require.Equal(t, tc.after, age)
		require.Equal(t, tc.stale, stale, "%+v", tc)
	}
}
