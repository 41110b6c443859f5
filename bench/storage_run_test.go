package bench

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestStorageVariants checks the settings variants the storage phase
// runs: the defaults alone on a binary without change-only storage, false
// against true on one with it, and the full-sample period scaled to the
// compressed interval where the variant stores changes only and does not
// set its own.
func TestStorageVariants(t *testing.T) {
	require.Nil(t, DefaultVariants(map[string]bool{"PGC_SINK_WORKERS": true}))
	known := map[string]bool{"PGC_SINK_DEDUP": true, "PGC_SINK_FULL_EVERY": true}
	require.Equal(t, [][]string{{"PGC_SINK_DEDUP=false"}, {"PGC_SINK_DEDUP=true"}}, DefaultVariants(known))

	require.Equal(t, 110*time.Second, fullEveryAt(10*time.Second), "an interval before the 13th run")
	require.Equal(t, time.Minute, fullEveryAt(5*time.Second), "the sink's floor")
	require.Equal(t, []string{"PGC_SINK_DEDUP=true", "PGC_SINK_FULL_EVERY=1m50s"},
		scaleFullEvery([]string{"PGC_SINK_DEDUP=true"}, known, 10*time.Second))
	require.Equal(t, []string{"PGC_SINK_FULL_EVERY=1m0s"}, scaleFullEvery(nil, known, 5*time.Second), "dedup is on by default")
	require.Equal(t, []string{"PGC_SINK_DEDUP=false"}, scaleFullEvery([]string{"PGC_SINK_DEDUP=false"}, known, 10*time.Second))
	require.Equal(t, []string{"PGC_SINK_FULL_EVERY=10m"}, scaleFullEvery([]string{"PGC_SINK_FULL_EVERY=10m"}, known, 10*time.Second))
	require.Nil(t, scaleFullEvery(nil, map[string]bool{}, 10*time.Second), "a binary without the setting")
}

// TestChangeOnlyEstimate checks the forecast: unchanged rows cost only in
// the hourly full run.
func TestChangeOnlyEstimate(t *testing.T) {
	s := ProbeStorage{DefaultInterval: 300, BytesPerDay: 1200, Unchanged: 0.75}
	require.InDelta(t, 1200*(0.25+0.75/12), s.ChangeOnlyEstimate(3600), 1e-9)
	s.Unchanged = -1
	require.Equal(t, 1200.0, s.ChangeOnlyEstimate(3600), "not measured: as stored")
}
