package bench

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/internal/pgtest"
)

// Every probe available on a fleet cluster is measured in every database
// it runs in, and a server's cost adds up the runs of the default
// schedule.
func TestMeasureProbeCosts(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c := pgtest.Start(t, pgtest.Options{Settings: monitoredSettings(50)})
	require.NoError(t, populate(ctx, c, Content{AppDatabases: 1, Tables: 5, Functions: 2}))
	dbs := []string{"postgres", AppDatabase(1)}

	costs, err := MeasureProbeCosts(ctx, c, dbs, 4, 2)
	require.NoError(t, err)
	require.Equal(t, 4, costs.Sessions)
	by := map[string]ProbeCost{}
	for _, p := range costs.Probes {
		require.Positive(t, p.CPUPerRun, p.Probe)
		by[p.Probe] = p
	}
	require.Equal(t, 2, by["pg_stat_all_tables"].Databases, "a database probe runs in each database")
	require.InDelta(t, 24, by["pg_stat_all_tables"].PerHour, 1e-9, "every 300 s in two databases")
	require.Equal(t, 1, by["pg_stat_statements"].Databases, "cluster-wide: once per server")
	require.Positive(t, by["pg_stat_statements"].Rows, "the statements populate ran")
	require.InDelta(t, 120, by["pg_connectivity"].PerHour, 1e-9)
	require.Contains(t, costs.Skipped, "pg_sys_os_info: extension system_stats not installed")
	require.NotContains(t, by, "pg_sys_os_info")

	var perMin float64
	for _, p := range costs.Probes {
		perMin += float64(p.CPUPerRun) * p.PerHour / 60
	}
	require.InDelta(t, perMin, float64(costs.PerServerMinute()), 1)
	require.Positive(t, costs.PerRun())
	require.Less(t, costs.PerRun(), costs.PerServerMinute(), "a server runs more than one probe a minute")
}
