package pgtest

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// These tests set environment variables, so they cannot run in parallel.

func TestVersions(t *testing.T) {
	tests := []struct {
		env  string
		want []int
	}{
		{"", []int{15}},
		{"16", []int{16}},
		{"14,15,16,17,18", []int{14, 15, 16, 17, 18}},
		{" 17 , 14,17,", []int{17, 14}},
		{",", []int{15}},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			t.Setenv("PGC_TEST_PG_VERSIONS", tt.env)
			require.Equal(t, tt.want, Versions())
		})
	}
	for _, bad := range []string{"15,sixteen", "9", "-1"} {
		t.Run(bad, func(t *testing.T) {
			t.Setenv("PGC_TEST_PG_VERSIONS", bad)
			require.Panics(t, func() { Versions() })
		})
	}
}

func TestBinDirMissingSaysHowToFetch(t *testing.T) {
	t.Setenv("PGC_PG_CACHE", t.TempDir())
	_, err := BinDir(11)
	require.ErrorContains(t, err, "run scripts/fetch-pg.sh 11")
}

// TestDefaultVersion checks that Options.Version 0 follows $PG_BIN, and
// that without it the default major is used.
func TestDefaultVersion(t *testing.T) {
	versions := Versions()
	major := versions[len(versions)-1]
	dir, err := BinDir(major)
	require.NoError(t, err)

	t.Setenv("PG_BIN", dir)
	b, err := resolveBinaries(0)
	require.NoError(t, err)
	require.Equal(t, major, b.major)
	require.Equal(t, dir, b.binDir)
	require.DirExists(t, b.shareDir+"/extension")

	t.Setenv("PG_BIN", "")
	b, err = resolveBinaries(0)
	require.NoError(t, err)
	require.Equal(t, DefaultMajor, b.major)
}
