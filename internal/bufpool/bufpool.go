package bufpool

import (
	"math/bits"
	"sync"
)

const (
	minShift = 12 // 4 KiB, the smallest class
	maxShift = 24 // 16 MiB, the largest class
	// steps is the number of classes per doubling: a quarter of a power
	// of two apart, so a buffer wastes under 25 % of its size (20 % on
	// average for evenly spread sizes) rather than up to half.
	steps   = 4
	classes = (maxShift-minShift)*steps + 1
)

var pools [classes]sync.Pool

// class returns the index of the smallest class holding n bytes, and false
// when n is larger than the largest class.
func class(n int) (int, bool) {
	if n <= 1<<minShift {
		return 0, true
	}
	// 2^shift < n <= 2^(shift+1); the classes above 2^shift are
	// 2^shift * (1 + sub/steps) for sub 1..steps.
	shift := bits.Len(uint(n-1)) - 1
	q := 1 << (shift - 2)
	sub := (n - 1<<shift + q - 1) / q
	c := (shift-minShift)*steps + sub
	if c >= classes {
		return 0, false
	}
	return c, true
}

// size is the capacity of class c's buffers.
func size(c int) int {
	shift := minShift + c/steps
	return (steps + c%steps) << (shift - 2)
}

// Get returns a buffer of length 0 and capacity at least n. Its contents
// are whatever the last user left.
func Get(n int) []byte {
	c, ok := class(n)
	if !ok {
		return make([]byte, 0, n)
	}
	if p, _ := pools[c].Get().(*[]byte); p != nil {
		return (*p)[:0]
	}
	return make([]byte, 0, size(c))
}

// Put gives b back for reuse. Buffers not made by Get (a capacity that is
// not exactly a class size) are left to the garbage collector.
func Put(b []byte) {
	n := cap(b)
	c, ok := class(n)
	if !ok || n != size(c) {
		return
	}
	b = b[:0]
	pools[c].Put(&b)
}

// Grow returns b with room for n more bytes, moving it to a buffer of the
// next class that fits when it has none and giving the old one back.
func Grow(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b
	}
	nb := Get(max(len(b)+n, 2*cap(b))) // doubling: a few moves for a buffer that keeps growing
	nb = append(nb, b...)
	Put(b)
	return nb
}
