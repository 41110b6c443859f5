package bench

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNextCeilingSize(t *testing.T) {
	held := func(n int) ScaleStep { return ScaleStep{Servers: n, Steady: Steady{Rows: 1}} }
	stale := func(n int) ScaleStep { return ScaleStep{Servers: n, Steady: Steady{Rows: 1, Stale: 3}} }
	for _, c := range []struct {
		name  string
		steps []ScaleStep
		want  int
		ok    bool
	}{
		{"halfway", []ScaleStep{held(1000), held(5000), stale(10000)}, 7500, true},
		{"rounded down", []ScaleStep{held(1000), stale(5000)}, 3000, true},
		{"after one try", []ScaleStep{held(1000), stale(5000), stale(3000)}, 2000, true},
		{"the smallest failure above", []ScaleStep{held(1000), stale(10000), stale(5000), held(3000)}, 4000, true},
		{"all held", []ScaleStep{held(1000), held(5000)}, 0, false},
		{"none held", []ScaleStep{stale(1000)}, 0, false},
		{"too close", []ScaleStep{held(1000), stale(1250)}, 0, false},
		{"an error fails", []ScaleStep{held(1000), {Servers: 2000, Steady: Steady{Rows: 1}, Err: "x"}}, 1500, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			n, ok := NextCeilingSize(c.steps, 250)
			require.Equal(t, c.ok, ok)
			require.Equal(t, c.want, n)
		})
	}
}
