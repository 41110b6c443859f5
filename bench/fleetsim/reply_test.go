package fleetsim

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func copyData(row string) []byte {
	m := []byte{'d', 0, 0, 0, 0}
	m = append(m, row+"\n"...)
	binary.BigEndian.PutUint32(m[1:], uint32(len(m)-1))
	return m
}

// TestWithCounters: fields that grew advance at their rate; a row with a
// field that went down is another object in that place and is served as
// recorded.
func TestWithCounters(t *testing.T) {
	at := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	a := &reply{at: at, msgs: [][]byte{
		copyData("public\tt1\t100\t7"),
		copyData("select 1\t-5\t40"),
	}}
	b := &reply{at: at.Add(10 * time.Second), msgs: [][]byte{
		copyData("public\tt1\t110\t7"),
		copyData("select 2\t9\t30"), // reordered top-N: queryid up, calls down
	}}
	r := withCounters(a, b)
	later := b.at.Add(20 * time.Second)
	require.Equal(t, string(copyData("public\tt1\t130\t7")), string(r.appendMsg(nil, 0, later)))
	require.Equal(t, string(copyData("select 2\t9\t30")), string(r.appendMsg(nil, 1, later)), "not advanced")
}
