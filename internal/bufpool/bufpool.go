package bufpool

import (
	"math/bits"
	"sync"
)

const (
	minShift = 12 // 4 KiB, the smallest class
	maxShift = 24 // 16 MiB, the largest class
)

var pools [maxShift - minShift + 1]sync.Pool

// class returns the index of the smallest class holding n bytes, and false
// when n is larger than the largest class.
func class(n int) (int, bool) {
	if n <= 1<<minShift {
		return 0, true
	}
	shift := bits.Len(uint(n - 1))
	if shift > maxShift {
		return 0, false
	}
	return shift - minShift, true
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
	return make([]byte, 0, 1<<(c+minShift))
}

// Put gives b back for reuse. Buffers not made by Get (a capacity that is
// not exactly a class size) are left to the garbage collector.
func Put(b []byte) {
	n := cap(b)
	c, ok := class(n)
	if !ok || n != 1<<(c+minShift) {
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
	nb := Get(max(len(b)+n, 2*cap(b)))
	nb = append(nb, b...)
	Put(b)
	return nb
}
