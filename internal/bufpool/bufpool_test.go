package bufpool

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestGetRoundsUpToAClass(t *testing.T) {
	for _, tc := range []struct{ n, want int }{
		{0, 4096}, {1, 4096}, {4096, 4096}, {4097, 5120}, {7169, 8192}, {8192, 8192}, {1 << 20, 1 << 20},
		{1<<20 + 1, 5 << 18}, {7<<18 + 1, 2 << 20}, {12 << 20, 12 << 20}, {16 << 20, 16 << 20},
	} {
		b := Get(tc.n)
		require.Empty(t, b)
		require.Equal(t, tc.want, cap(b), "Get(%d)", tc.n)
	}
	require.Equal(t, 16<<20+1, cap(Get(16<<20+1)), "beyond the largest class: exactly what was asked")
}

func TestPutKeepsOnlyClassSizedBuffers(t *testing.T) {
	Put(make([]byte, 10, 5000)) // not a class size: ignored, must not be handed out as 4 KiB
	for range 10 {
		require.GreaterOrEqual(t, cap(Get(4096)), 4096)
	}
	Put(nil)
	Put(make([]byte, 0, 32<<20))
}

func TestGrowKeepsTheContents(t *testing.T) {
	b := append(Get(10), "hello"...)
	b = Grow(b, 5000)
	require.Equal(t, "hello", string(b))
	require.GreaterOrEqual(t, cap(b)-len(b), 5000)
	same := Grow(b, 1)
	require.Equal(t, &b[:1][0], &same[:1][0], "room enough: the same buffer")
}

func BenchmarkGetPut(b *testing.B) {
	b.ReportAllocs()
	for range b.N {
		buf := Get(100 << 10)
		buf = append(buf, 'x')
		Put(buf)
	}
}

// TestClassesAreTight: every size gets the smallest class that holds it,
// which wastes less than a quarter of the buffer.
func TestClassesAreTight(t *testing.T) {
	for n := 4097; n <= 16<<20; n += 997 {
		c, ok := class(n)
		require.True(t, ok)
		require.GreaterOrEqual(t, size(c), n)
		require.Less(t, size(c-1), n, "class %d is not the smallest for %d", c, n)
		require.Less(t, size(c)-n, size(c)/4+1)
	}
	for c := range classes {
		got, ok := class(size(c))
		require.True(t, ok)
		require.Equal(t, c, got)
	}
	_, ok := class(16<<20 + 1)
	require.False(t, ok)
}
