package probes_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/probes"
)

func TestQueryForPicksHighestMinVersionNotAbove(t *testing.T) {
	p := probes.Probe{Queries: []probes.Versioned{{MinVersion: 140000, SQL: "a"}, {MinVersion: 160000, SQL: "b"}}}
	for v, want := range map[int]string{140000: "a", 150012: "a", 160000: "b", 180001: "b"} {
		got, ok := p.QueryFor(v)
		require.True(t, ok)
		require.Equal(t, want, got, v)
	}
	_, ok := p.QueryFor(130000)
	require.False(t, ok)
}

func TestWithTopN(t *testing.T) {
	require.Equal(t, "SELECT 1 LIMIT 25 /*top_n*/", probes.WithTopN("SELECT 1 LIMIT 1000 /*top_n*/", 25))
	require.Equal(t, "SELECT 1 LIMIT 1000", probes.WithTopN("SELECT 1 LIMIT 1000", 25), "only marked caps change")
}
