package partition

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	require.NoError(t, err, "time zone database needed for DST cases")
	return loc
}

func utc(y int, m time.Month, d, h, min, s, ns int) time.Time {
	return time.Date(y, m, d, h, min, s, ns, time.UTC)
}

func TestWeekAndName(t *testing.T) {
	ny := mustZone(t, "America/New_York")
	berlin := mustZone(t, "Europe/Berlin")
	tests := []struct {
		name   string
		in     time.Time
		monday time.Time
	}{
		{"thursday before new year", utc(2026, 12, 31, 12, 0, 0, 0), utc(2026, 12, 28, 0, 0, 0, 0)},
		{"sunday after new year", utc(2027, 1, 3, 23, 59, 59, 0), utc(2026, 12, 28, 0, 0, 0, 0)},
		{"first monday of 2027", utc(2027, 1, 4, 0, 0, 0, 0), utc(2027, 1, 4, 0, 0, 0, 0)},
		{"exact monday boundary", utc(2026, 3, 2, 0, 0, 0, 0), utc(2026, 3, 2, 0, 0, 0, 0)},
		{"one ns before monday", utc(2026, 3, 1, 23, 59, 59, 999999999), utc(2026, 2, 23, 0, 0, 0, 0)},
		{"one ns after monday", utc(2026, 3, 2, 0, 0, 0, 1), utc(2026, 3, 2, 0, 0, 0, 0)},
		{"leap day", utc(2028, 2, 29, 8, 0, 0, 0), utc(2028, 2, 28, 0, 0, 0, 0)},
		{"monday 2024-12-30 spans years", utc(2025, 1, 1, 0, 0, 0, 0), utc(2024, 12, 30, 0, 0, 0, 0)},
		// America/New_York springs forward on Sunday 2026-03-08 at 02:00 EST.
		// Sunday 20:00 EDT is already Monday 00:00 UTC.
		{"new york sunday evening after spring forward", time.Date(2026, 3, 8, 20, 0, 0, 0, ny), utc(2026, 3, 9, 0, 0, 0, 0)},
		{"new york sunday 19:59:59 edt", time.Date(2026, 3, 8, 19, 59, 59, 999999999, ny), utc(2026, 3, 2, 0, 0, 0, 0)},
		{"new york during the skipped hour", time.Date(2026, 3, 8, 2, 30, 0, 0, ny), utc(2026, 3, 2, 0, 0, 0, 0)},
		// New York falls back on Sunday 2026-11-01: 01:30 happens twice.
		{"new york repeated hour", time.Date(2026, 11, 1, 1, 30, 0, 0, ny), utc(2026, 10, 26, 0, 0, 0, 0)},
		{"new york sunday 19:00 est is monday utc", time.Date(2026, 11, 1, 19, 0, 0, 0, ny), utc(2026, 11, 2, 0, 0, 0, 0)},
		// Europe/Berlin springs forward on Sunday 2026-03-29 and falls back on
		// Sunday 2026-10-25. Monday 01:00 CEST / 00:30 CET are still Sunday in UTC.
		{"berlin monday 01:59 cest is sunday utc", time.Date(2026, 3, 30, 1, 59, 0, 0, berlin), utc(2026, 3, 23, 0, 0, 0, 0)},
		{"berlin monday 02:00 cest is monday utc", time.Date(2026, 3, 30, 2, 0, 0, 0, berlin), utc(2026, 3, 30, 0, 0, 0, 0)},
		{"berlin monday 00:30 cet after fall back", time.Date(2026, 10, 26, 0, 30, 0, 0, berlin), utc(2026, 10, 19, 0, 0, 0, 0)},
		{"berlin monday 01:00 cet after fall back", time.Date(2026, 10, 26, 1, 0, 0, 0, berlin), utc(2026, 10, 26, 0, 0, 0, 0)},
		{"berlin fall back sunday", time.Date(2026, 10, 25, 2, 30, 0, 0, berlin), utc(2026, 10, 19, 0, 0, 0, 0)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			from, to := Week(tc.in)
			require.Equal(t, tc.monday, from)
			require.Equal(t, time.UTC, from.Location())
			require.Equal(t, time.Monday, from.Weekday())
			require.Equal(t, tc.monday.Add(Length), to)
			require.Equal(t, time.Monday, to.Weekday())
			require.False(t, tc.in.Before(from), "input before partition start")
			require.True(t, tc.in.Before(to), "input at or after partition end")

			name := Name("pg_stat_database", tc.in)
			require.Equal(t, "pg_stat_database_"+tc.monday.Format("20060102"), name)
			got, ok := Parse("pg_stat_database", name)
			require.True(t, ok)
			require.Equal(t, tc.monday, got)
		})
	}
}

func TestWeeksAreContiguous(t *testing.T) {
	// Walk hour by hour across two years in a DST zone: consecutive weeks
	// must tile time with no gap and no overlap.
	ny := mustZone(t, "America/New_York")
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, ny)
	prevFrom, prevTo := Week(start)
	for at := start; at.Before(start.AddDate(2, 0, 0)); at = at.Add(time.Hour) {
		from, to := Week(at)
		if from.Equal(prevFrom) {
			continue
		}
		require.Equal(t, prevTo, from, "gap or overlap at %s", at)
		require.Equal(t, Length, to.Sub(from))
		prevFrom, prevTo = from, to
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name, probe, partition string
		want                   time.Time
		ok                     bool
	}{
		{"valid", "pg_settings", "pg_settings_20261228", utc(2026, 12, 28, 0, 0, 0, 0), true},
		{"other probe", "pg_settings", "pg_stat_io_20261228", time.Time{}, false},
		{"probe that is a prefix of another", "pg_stat_all", "pg_stat_all_tables_20261228", time.Time{}, false},
		{"longer probe with prefix name", "pg_stat_all_tables", "pg_stat_all_tables_20261228", utc(2026, 12, 28, 0, 0, 0, 0), true},
		{"not a monday", "pg_settings", "pg_settings_20261229", time.Time{}, false},
		{"invalid date", "pg_settings", "pg_settings_20260230", time.Time{}, false},
		{"short suffix", "pg_settings", "pg_settings_2026122", time.Time{}, false},
		{"long suffix", "pg_settings", "pg_settings_202612280", time.Time{}, false},
		{"signs in suffix", "pg_settings", "pg_settings_+2026122", time.Time{}, false},
		{"no separator", "pg_settings", "pg_settings20261228", time.Time{}, false},
		{"parent table", "pg_settings", "pg_settings", time.Time{}, false},
		{"default partition", "pg_settings", "pg_settings_default", time.Time{}, false},
		{"empty", "pg_settings", "", time.Time{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := Parse(tc.probe, tc.partition)
			require.Equal(t, tc.ok, ok)
			require.Equal(t, tc.want, got)
		})
	}
}
