package fetcher

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSnapshotHashIgnoresOrderAndCollectionTime(t *testing.T) {
	a := []byte("1\t2026-11-25 00:00:00+00\tdb\tx\t1\n1\t2026-11-25 00:00:00+00\tdb\ty\t2\n")
	b := []byte("1\t2026-11-25 01:00:00+00\tdb\ty\t2\n1\t2026-11-25 01:00:00+00\tdb\tx\t1\n")
	c := []byte("1\t2026-11-25 01:00:00+00\tdb\ty\t3\n1\t2026-11-25 01:00:00+00\tdb\tx\t1\n")
	require.Equal(t, snapshotHash(a, 3), snapshotHash(b, 3))
	require.NotEqual(t, snapshotHash(a, 3), snapshotHash(c, 3))
}

func TestCopyEscape(t *testing.T) {
	require.Equal(t, `a\\b\tc\nd\re`, copyEscape("a\\b\tc\nd\re"))
}
