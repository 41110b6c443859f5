package fetcher

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/internal/catalog"
	"github.com/pgcollector/pgcollector/probes"
)

func TestStatementsBuildOnceAndMatchProbeStatement(t *testing.T) {
	p, err := probes.ByName("pg_stat_statements")
	require.NoError(t, err)
	sql, ok := p.QueryFor(170000)
	require.True(t, ok)
	var s statements
	pc := catalog.ProbeConfig{}
	got := s.get(p, pc, 170000, sql, 50, 0)
	want := probes.WithTopN(sql, 50)
	require.Equal(t, want, got.sql)
	require.Equal(t, ProbeStatement(p, pc, 170000, want), got.copy)
	require.Contains(t, got.copy, "LIMIT 50 /*top_n*/")

	again := s.get(p, pc, 170000, sql, 50, 0)
	require.Same(t, unsafe.StringData(got.copy), unsafe.StringData(again.copy), "the same inputs reuse the text")

	pc.StatementTimeoutMs = 1500
	timed := s.get(p, pc, 170000, sql, 50, 0)
	require.Contains(t, timed.copy, "statement_timeout = 1500", "a probe's own timeout is part of the key")
	require.NotContains(t, s.get(p, pc, 140000, sql, 50, 0).copy, "stats_fetch_consistency", "and the version")

	tables, err := probes.ByName("pg_stat_all_tables")
	require.NoError(t, err)
	tsql, _ := tables.QueryFor(170000)
	require.Contains(t, s.get(tables, catalog.ProbeConfig{}, 170000, tsql, 50, 100).copy, "LIMIT 100", "and the object cap")

	for i := range maxStatements + 10 {
		s.get(p, pc, 170000, sql, i, 0)
	}
	require.LessOrEqual(t, len(s.m), maxStatements, "bounded")
}
