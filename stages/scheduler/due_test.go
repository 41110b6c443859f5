package scheduler

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestDue(t *testing.T) {
	start := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) // of the slot asked about, 100
	tests := []struct {
		name string
		last last
		ok   bool
		want bool
	}{
		{"first sight: the current slot runs now", last{}, false, true},
		{"same interval, slot already published", last{60, 100, start.Add(time.Second)}, true, false},
		{"same interval, next slot", last{60, 99, start.Add(-time.Minute)}, true, true},
		{"interval changed, old schedule ran within the current slot", last{30, 4000, start.Add(5 * time.Second)}, true, false},
		{"interval changed, old schedule last ran before the current slot", last{3600, 7, start.Add(-time.Second)}, true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, due(tc.last, tc.ok, 60, 100, start))
		})
	}
}
