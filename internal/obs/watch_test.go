package obs

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/bus"
)

func TestBufferWatchLogsEachEpisodeOnce(t *testing.T) {
	var buf bytes.Buffer
	w := NewBufferWatch(nil, slog.New(slog.NewTextHandler(&buf, nil)), 0)
	at := func(pct int64) Backlog {
		return Backlog{Stream: bus.StreamBatches, Consumer: bus.ConsumerSink, MaxBytes: 1000, PendingBytes: uint64(pct * 10)}
	}
	for _, pct := range []int64{10, 49, 50, 70, 90, 40, 30, 26, 20, 10, 60, 60} {
		w.check(at(pct))
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 3, buf.String())
	require.Contains(t, lines[0], "batch buffer filling")
	require.Contains(t, lines[0], "filled_pct=50")
	require.Contains(t, lines[1], "batch buffer drained")
	require.Contains(t, lines[1], "filled_pct=20")
	require.Contains(t, lines[2], "batch buffer filling")
}

func TestPageIsSelfContained(t *testing.T) {
	entries, err := web.ReadDir("web")
	require.NoError(t, err)
	require.NotEmpty(t, entries)
	for _, e := range entries {
		b, err := web.ReadFile("web/" + e.Name())
		require.NoError(t, err)
		text := string(b)
		// The SVG namespace is a name, not a download.
		text = strings.ReplaceAll(text, `"http://www.w3.org/2000/svg"`, "")
		for _, ref := range []string{"http://", "https://", "//cdn", "@import"} {
			require.NotContains(t, text, ref, "%s must load nothing from elsewhere", e.Name())
		}
	}
}

func TestDownsample(t *testing.T) {
	var pts [][2]float64
	for i := range 1000 {
		pts = append(pts, [2]float64{float64(i), float64(i % 2)})
	}
	out := downsample(pts, 100)
	require.Len(t, out, 100)
	require.InDelta(t, 0.5, out[0][1], 1e-9)
	require.InDelta(t, 4.5, out[0][0], 1e-9)
	require.Equal(t, [][2]float64{}, downsample(nil, 10))
}
