package probes

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPgStatStatementsAdaptsToTheViewsColumns(t *testing.T) {
	// Extension 1.8: no toplevel, blk_read_time under its old name.
	old := []string{"userid", "dbid", "queryid", "query", "blk_read_time", "blk_write_time"}
	sql, ok := pgStatStatements.QueryForColumns(old)
	require.True(t, ok)
	require.Contains(t, sql, "NULL::boolean AS toplevel")
	require.Contains(t, sql, "s.blk_read_time::double precision AS shared_blk_read_time")
	require.NotContains(t, sql, "to_jsonb")
	require.Contains(t, sql, "LIMIT 1000 /*top_n*/", "PGC_STATEMENTS_TOP_N still applies")

	// 1.11: the new names win over the old ones.
	sql, _ = pgStatStatements.QueryForColumns([]string{"toplevel", "shared_blk_read_time", "blk_read_time"})
	require.Contains(t, sql, "s.toplevel::boolean AS toplevel")
	require.Contains(t, sql, "s.shared_blk_read_time::double precision AS shared_blk_read_time")

	_, ok = pgDatabase.QueryForColumns(old)
	require.False(t, ok, "a probe without ColumnsOf does not adapt")
}
