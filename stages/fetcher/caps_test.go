package fetcher

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/internal/config"
)

// TestObjectCaps checks which probes PGC_PROBE_MAX_OBJECTS and its
// per-probe overrides cap: none by default, the per-object probes only,
// and an override of 0 exempts one.
func TestObjectCaps(t *testing.T) {
	c := config.Default[Config]()
	caps, err := c.objectCaps()
	require.NoError(t, err)
	require.Empty(t, caps, "no cap by default")

	c.MaxObjects = 300
	caps, err = c.objectCaps()
	require.NoError(t, err)
	require.Equal(t, map[string]int{"pg_stat_all_tables": 300, "pg_stat_all_indexes": 300,
		"pg_statio_all_sequences": 300, "pg_stat_user_functions": 300}, caps)

	c.MaxObjectsByProbe = []string{"pg_stat_all_indexes=1000", " pg_stat_user_functions = 0"}
	caps, err = c.objectCaps()
	require.NoError(t, err)
	require.Equal(t, map[string]int{"pg_stat_all_tables": 300, "pg_stat_all_indexes": 1000,
		"pg_statio_all_sequences": 300}, caps)

	c.MaxObjects = 0
	c.MaxObjectsByProbe = []string{"pg_stat_all_tables=50"}
	caps, err = c.objectCaps()
	require.NoError(t, err)
	require.Equal(t, map[string]int{"pg_stat_all_tables": 50}, caps, "a per-probe cap alone")

	for _, bad := range []string{"pg_settings=5", "pg_stat_all_tables", "pg_stat_all_tables=-1", "nope=3"} {
		c.MaxObjectsByProbe = []string{bad}
		require.ErrorContains(t, c.Validate(), "PGC_PROBE_MAX_OBJECTS_BY_PROBE", bad)
	}
}
