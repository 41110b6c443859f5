package main

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/internal/e2e"
	"github.com/pgcollector/pgcollector/internal/pgtest"
	"github.com/pgcollector/pgcollector/stages/scheduler"
)

// TestProbeSettingsApplyWithoutRestart changes pg_connectivity with
// `pgcollector probe set` while the collector runs (catalog refresh 1 s):
// an interval of 2 s becomes 5 s from the next slot, disabling stops
// collection within one interval, and enabling resumes it.
func TestProbeSettingsApplyWithoutRestart(t *testing.T) {
	ctx := context.Background()
	const password = "reconf-Pw-77"
	const probe = "pg_connectivity"
	// The scheduler sees a change after at most one catalog refresh (1 s)
	// and one scheduler tick (1 s); settle leaves room for a slow refresh.
	const settle = 3500 * time.Millisecond
	c := e2e.NewCollector(t, "PGC_CATALOG_REFRESH=1s")
	mon := pgtest.Start(t, pgtest.Options{Version: pgtest.Versions()[0]})
	require.NoError(t, e2e.MonitorRole(ctx, mon, "pgc_monitor", password))
	id := c.AddConnection(t, "mon", mon, "pgc_monitor", password)
	c.OnlyProbes(t, 2, probe)
	c.Start(t)

	samples := func(after time.Time) []time.Time {
		return e2e.Rows[time.Time](t, c, `SELECT collected_at FROM metrics.pg_connectivity
			WHERE connection_id = $1 AND collected_at > $2 ORDER BY 1`, id, after)
	}
	awaitSamples := func(after time.Time, n int, within time.Duration) []time.Time {
		t.Helper()
		require.EventuallyWithT(t, func(ct *assert.CollectT) {
			assert.GreaterOrEqual(ct, len(samples(after)), n, "samples after %s", after.Format(time.TimeOnly))
		}, within, 200*time.Millisecond)
		return samples(after)
	}
	// A sample is taken at most about a second after its slot starts (one
	// scheduler tick), so consecutive gaps are the interval ± 1 s, plus
	// room for a busy machine; 2 s and 5 s gaps stay apart.
	requireGaps := func(ts []time.Time, interval time.Duration) {
		t.Helper()
		for i := 1; i < len(ts); i++ {
			gap := ts[i].Sub(ts[i-1])
			require.InDelta(t, interval.Seconds(), gap.Seconds(), 1.45, "gap %d of %v", i, ts)
		}
	}

	// 2 s.
	requireGaps(awaitSamples(time.Time{}, 4, 30*time.Second)[1:], 2*time.Second)

	// 5 s, from the next slot: after the change has settled, one sample
	// per 5 s slot and none in a slot that the old schedule already served.
	c.MustRun(t, "", "probe", "set", probe, "--interval", "5s")
	changed := time.Now()
	require.Regexp(t, regexp.MustCompile(`(?m)^pg_connectivity\s+server\s+5s\s`), c.MustRun(t, "", "probe", "list"))
	after := awaitSamples(changed.Add(settle), 3, 30*time.Second)
	requireGaps(after, 5*time.Second)
	all := samples(changed)
	slots := map[int64]int{}
	for _, ts := range all {
		slot, _ := scheduler.SlotAt(ts, id, probe, 5)
		slots[slot]++
	}
	for _, ts := range after {
		slot, _ := scheduler.SlotAt(ts, id, probe, 5)
		require.Equal(t, 1, slots[slot], "the 5 s slot of %s has one sample (samples since the change: %v)", ts, all)
	}

	// Disabled: no sample later than one interval after the change, and
	// none in the interval after that either.
	c.MustRun(t, "", "probe", "set", probe, "--enabled", "false")
	disabled := time.Now()
	time.Sleep(10 * time.Second)
	require.Empty(t, samples(disabled.Add(5*time.Second)), "a disabled probe stops within one interval")

	// Enabled again: collection resumes at once, then every 5 s.
	c.MustRun(t, "", "probe", "set", probe, "--enabled", "true")
	enabled := time.Now()
	requireGaps(awaitSamples(enabled, 3, 20*time.Second)[1:], 5*time.Second)
}
