package retention

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/internal/partition"

	"github.com/pgcollector/pgcollector/internal/config"
)

func utc(y int, m time.Month, d, h, min, s int) time.Time {
	return time.Date(y, m, d, h, min, s, 0, time.UTC)
}

// weeks are the partition names of probe p around the turn of 2026/2027,
// plus tables that are not p's weekly partitions at all.
var weeks = []string{
	"p_20261019", "p_20261123", "p_20261130", "p_20261207", "p_20261214",
	"p_20261221", "p_20261228", "p_20270104", "p_20270111",
	"p_default", "p_archive", "p_20261229", "p_x_20261019", "q_20261019",
}

func TestExpired(t *testing.T) {
	tests := []struct {
		name string
		now  time.Time
		days int
		want []string
	}{
		{
			// Wednesday of the week of 2026-12-28: cutoff 2026-12-23 12:00.
			name: "seven days, mid week",
			now:  utc(2026, 12, 30, 12, 0, 0), days: 7,
			want: []string{"p_20261019", "p_20261123", "p_20261130", "p_20261207", "p_20261214"},
		},
		{
			// Saturday 2027-01-02, still the week of 2026-12-28: cutoff
			// 2026-12-26, so last week (upper bound 2026-12-28) stays.
			name: "seven days, across the year end",
			now:  utc(2027, 1, 2, 12, 0, 0), days: 7,
			want: []string{"p_20261019", "p_20261123", "p_20261130", "p_20261207", "p_20261214"},
		},
		{
			// Monday 2027-01-11 00:00: cutoff 2027-01-04 00:00 equals the
			// upper bound of the week of 2026-12-28, which goes; last week
			// (2027-01-04) stays.
			name: "upper bound equal to the cutoff",
			now:  utc(2027, 1, 11, 0, 0, 0), days: 7,
			want: []string{"p_20261019", "p_20261123", "p_20261130", "p_20261207", "p_20261214", "p_20261221", "p_20261228"},
		},
		{
			name: "one second before that",
			now:  utc(2027, 1, 10, 23, 59, 59), days: 7,
			want: []string{"p_20261019", "p_20261123", "p_20261130", "p_20261207", "p_20261214", "p_20261221"},
		},
		{
			// Cutoff 2026-11-30 12:00: the week ending 2026-11-30 00:00 goes.
			name: "thirty days",
			now:  utc(2026, 12, 30, 12, 0, 0), days: 30,
			want: []string{"p_20261019", "p_20261123"},
		},
		{
			// Monday 00:00: last week ends exactly now, so one day of
			// retention still keeps it; nothing current or future goes.
			name: "one day at the start of a week",
			now:  utc(2027, 1, 4, 0, 0, 0), days: 1,
			want: []string{"p_20261019", "p_20261123", "p_20261130", "p_20261207", "p_20261214", "p_20261221"},
		},
		{
			name: "one day, a day later",
			now:  utc(2027, 1, 5, 0, 0, 0), days: 1,
			want: []string{"p_20261019", "p_20261123", "p_20261130", "p_20261207", "p_20261214", "p_20261221", "p_20261228"},
		},
		{
			name: "a year keeps everything",
			now:  utc(2027, 1, 5, 0, 0, 0), days: 365,
		},
		{
			name: "absurd retention does not overflow",
			now:  utc(2027, 1, 5, 0, 0, 0), days: 1 << 30,
		},
		{
			name: "zero retention drops nothing",
			now:  utc(2027, 1, 5, 0, 0, 0), days: 0,
		},
		{
			name: "negative retention drops nothing",
			now:  utc(2027, 1, 5, 0, 0, 0), days: -7,
		},
		{
			// The clock's zone does not matter, only the instant: Sunday
			// 2027-01-10 19:30 in New York is Monday 00:30 UTC.
			name: "non-UTC clock",
			now:  utc(2027, 1, 11, 0, 30, 0).In(time.FixedZone("EST", -5*3600)), days: 7,
			want: []string{"p_20261019", "p_20261123", "p_20261130", "p_20261207", "p_20261214", "p_20261221", "p_20261228"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := expired("p", weeks, tc.days, tc.now)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestExpiredNeverTouchesCurrentOrFuture(t *testing.T) {
	// Walk four years in 5-hour steps (every hour of the week comes up)
	// with the shortest retention: the week holding now and later weeks
	// are never returned, and every week ending at or before now minus a
	// day always is.
	start := utc(2025, 12, 1, 0, 0, 0)
	var names []string
	var ends []time.Time
	for d := start.AddDate(0, 0, -14); d.Before(start.AddDate(4, 0, 14)); d = d.AddDate(0, 0, 7) {
		names = append(names, "p_"+d.Format("20060102"))
		ends = append(ends, d.AddDate(0, 0, 7))
	}
	for now := start; now.Before(start.AddDate(4, 0, 0)); now = now.Add(5 * time.Hour) {
		got := expired("p", names, 1, now)
		cutoff := now.AddDate(0, 0, -1)
		want := 0
		for _, end := range ends {
			if !end.After(cutoff) {
				want++
			}
		}
		require.Len(t, got, want, "at %s", now)
		if want > 0 {
			require.Equal(t, names[:want], got, "at %s", now)
			require.True(t, ends[want-1].Before(now) || ends[want-1].Equal(now), "dropped the current week at %s", now)
		}
	}
}

func TestUpkeepWeeks(t *testing.T) {
	// Thursday 2026-12-31: this week is 2026-12-28, next week 2027-01-04.
	for _, now := range []time.Time{utc(2026, 12, 28, 0, 0, 0), utc(2026, 12, 31, 23, 0, 0), utc(2027, 1, 3, 23, 59, 59)} {
		var got []string
		for _, w := range upkeepWeeks(now) {
			got = append(got, partition.Name("p", w))
		}
		require.Equal(t, []string{"p_20261228", "p_20270104"}, got, "at %s", now)
	}
}

func TestConfigValidate(t *testing.T) {
	require.NoError(t, config.Default[Config]().Validate())
	cfg := config.Default[Config]()
	cfg.LockTimeout = 0
	require.ErrorContains(t, cfg.Validate(), "PGC_RETENTION_LOCK_TIMEOUT: must be between 1ms and 1m")
	cfg = config.Default[Config]()
	cfg.RetryDelay = -time.Second
	err := cfg.Validate()
	require.Error(t, err)
	require.True(t, strings.HasPrefix(err.Error(), "PGC_RETENTION_RETRY_DELAY: must be positive"), err.Error())
}
