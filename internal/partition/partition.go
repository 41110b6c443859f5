package partition

import (
	"strings"
	"time"
)

// Length is the span of one partition. Weeks are counted in UTC, which has
// no daylight saving time, so every partition is exactly seven days long.
const Length = 7 * 24 * time.Hour

// layout is the date suffix of a partition name: the Monday, in UTC.
const layout = "20060102"

// Week returns the bounds [from, to) of the weekly partition holding t: the
// Monday 00:00 UTC at or before t and the Monday after it. The time zone of
// t does not matter, only the instant it names.
func Week(t time.Time) (from, to time.Time) {
	u := t.UTC()
	// time.Weekday counts from Sunday = 0; shift so that Monday = 0.
	back := (int(u.Weekday()) + 6) % 7
	y, m, d := u.Date()
	from = time.Date(y, m, d-back, 0, 0, 0, 0, time.UTC)
	return from, from.Add(Length)
}

// Name returns the table name (without schema) of the partition of
// metrics.<probe> that holds t, e.g. pg_stat_database_20261228.
func Name(probe string, t time.Time) string {
	from, _ := Week(t)
	return probe + "_" + from.Format(layout)
}

// Parse reports whether partitionName is a weekly partition of probe, as
// made by Name, and returns its lower bound. It rejects names of other
// probes (including probes whose name has this probe's name as a prefix,
// such as pg_stat_all_tables vs pg_stat_all), suffixes that are not a date,
// and dates that are not a Monday: none of those were made by Name, so
// retention must not treat them as partitions it owns.
func Parse(probe, partitionName string) (from time.Time, ok bool) {
	suffix, found := strings.CutPrefix(partitionName, probe+"_")
	if !found || len(suffix) != len(layout) {
		return time.Time{}, false
	}
	for _, c := range suffix {
		if c < '0' || c > '9' {
			return time.Time{}, false
		}
	}
	from, err := time.ParseInLocation(layout, suffix, time.UTC)
	if err != nil || from.Weekday() != time.Monday {
		return time.Time{}, false
	}
	return from, true
}
