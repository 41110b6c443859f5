package obs

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestClassify(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	iv := time.Minute
	at := func(d time.Duration) *time.Time { v := now.Add(-d); return &v }
	no, yes := ptr(false), ptr(true)
	cases := []struct {
		name string
		row  stateRow
		want string
	}{
		{"fresh", stateRow{LastSuccess: at(30 * time.Second)}, StateOK},
		{"within slack", stateRow{LastSuccess: at(iv + slack - time.Second)}, StateOK},
		{"late", stateRow{LastSuccess: at(iv + slack + time.Second)}, StateLate},
		{"overdue", stateRow{LastSuccess: at(2*iv + slack + time.Second)}, StateOverdue},
		{"failing", stateRow{LastSuccess: at(50 * time.Second), LastErrorAt: at(10 * time.Second), LastError: "x"}, StateError},
		{"failed before the last success", stateRow{LastSuccess: at(10 * time.Second), LastErrorAt: at(50 * time.Second)}, StateOK},
		{"never succeeded, failing", stateRow{LastErrorAt: at(10 * time.Second)}, StateError},
		{"failing long ago, nothing since", stateRow{LastErrorAt: at(time.Hour)}, StateOverdue},
		{"unavailable", stateRow{Available: no, LastChecked: at(time.Hour)}, StateUnavailable},
		{"unavailable after an old success", stateRow{Available: no, LastChecked: at(time.Minute), LastSuccess: at(time.Hour)}, StateUnavailable},
		{"available again", stateRow{Available: yes, LastChecked: at(time.Second), LastSuccess: at(time.Second)}, StateOK},
		{"nothing recorded", stateRow{Available: yes}, StatePending},
		{"only checked", stateRow{Available: yes, LastChecked: at(time.Second)}, StatePending},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.Equal(t, c.want, classify(c.row, iv, now))
		})
	}
}

func TestCurrentDropsDepartedDatabases(t *testing.T) {
	now := time.Now()
	at := func(d time.Duration) *time.Time { v := now.Add(-d); return &v }
	rows := []stateRow{
		{Database: "app", LastSuccess: at(10 * time.Second)},
		{Database: "dropped", LastSuccess: at(time.Hour)},
		{Database: "no_ext", Available: ptr(false), LastChecked: at(time.Hour)},
	}
	var names []string
	for _, r := range current(rows, time.Minute) {
		names = append(names, r.Database)
	}
	require.Equal(t, []string{"app", "no_ext"}, names)

	// A database-scoped probe that once failed to list the databases
	// (database "") and now finds its extension missing everywhere: the
	// old error no longer counts.
	listed := []stateRow{
		{Database: "", LastError: "connection refused", LastErrorAt: at(time.Hour)},
		{Database: "app", Available: ptr(false), LastChecked: at(time.Minute)},
	}
	require.Len(t, current(listed, time.Minute), 1)
	require.Equal(t, "app", current(listed, time.Minute)[0].Database)

	// When every database is behind, the collector is: nothing is dropped.
	stale := []stateRow{{Database: "a", LastSuccess: at(time.Hour)}, {Database: "b", LastSuccess: at(2 * time.Hour)}}
	require.Len(t, current(stale, time.Minute), 1, "b is an hour behind a")
	require.Len(t, current(stale[:1], time.Minute), 1)
}

func TestNeverState(t *testing.T) {
	now := time.Now()
	require.Equal(t, StatePending, neverState(now.Add(-time.Minute), time.Minute, now))
	require.Equal(t, StateOverdue, neverState(now.Add(-3*time.Minute), time.Minute, now))
}

func TestWorse(t *testing.T) {
	require.Equal(t, StateOverdue, worse(StateError, StateOverdue))
	require.Equal(t, StateError, worse(StateError, StateOK))
	require.Equal(t, StateOK, worse(StateUnavailable, StateOK))
	require.True(t, Unhealthy(StateError))
	require.False(t, Unhealthy(StateLate))
}
