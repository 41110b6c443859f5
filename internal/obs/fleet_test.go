package obs_test

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/internal/obs"
	"github.com/pgcollector/pgcollector/internal/obs/obstest"
	"github.com/pgcollector/pgcollector/internal/pgtest"
	"github.com/pgcollector/pgcollector/internal/store"
	"github.com/pgcollector/pgcollector/probes"
)

// seeded starts a datastore, migrates it and seeds the obstest fleet.
func seeded(t *testing.T) (*pgtest.Cluster, *pgxpool.Pool, obstest.Fleet) {
	t.Helper()
	ctx := t.Context()
	pg := pgtest.Start(t, pgtest.Options{})
	pool, err := pgxpool.New(ctx, pg.DSN("postgres"))
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	require.NoError(t, store.Migrate(ctx, pool, probes.All))
	f, err := obstest.Seed(ctx, pool)
	require.NoError(t, err)
	return pg, pool, f
}

func TestFleetAndSeriesFromTheDatastore(t *testing.T) {
	_, pool, seed := seeded(t)
	ctx := t.Context()
	fleet, err := obs.LoadFleet(ctx, pool, time.Now())
	require.NoError(t, err)

	names := []string{}
	for _, c := range fleet.Connections {
		names = append(names, c.Name)
	}
	require.Equal(t, []string{"alpha", "beta", "off"}, names)
	alpha, beta, off := fleet.Connections[0], fleet.Connections[1], fleet.Connections[2]
	got := map[string]string{}
	for _, p := range alpha.Probes {
		if p.Enabled {
			got[p.Probe] = p.State
		} else {
			require.Equal(t, obs.StateDisabled, p.State, p.Probe)
		}
	}
	require.Equal(t, obstest.AlphaStates, got)
	require.Equal(t, obs.StateOverdue, alpha.State, "the worst of its probes")
	require.NotNil(t, alpha.Up)
	require.True(t, *alpha.Up)
	require.InDelta(t, 1.0, *alpha.Availability24h, 1e-9)
	require.False(t, *beta.Up)
	require.Less(t, *beta.Availability24h, 1.0)
	require.False(t, off.Monitored)
	require.Equal(t, obs.StateNotMonitored, off.State)
	require.Empty(t, off.Probes)

	var db obs.ProbeStatus
	for _, p := range alpha.Probes {
		if p.Probe == "pg_stat_database" {
			db = p
		}
	}
	require.Len(t, db.Databases, 2)
	require.Equal(t, "permission denied for table secret", db.LastError)
	require.InDelta(t, 80, *db.LagSeconds, 5, "the lag of the most behind database")

	require.False(t, fleet.Healthy)
	joined := ""
	for _, p := range fleet.Problems {
		joined += p + "\n"
	}
	require.Contains(t, joined, "alpha / pg_stat_database (app): failing: permission denied")
	require.Contains(t, joined, "alpha / pg_stat_wal: overdue: last success 10m")
	require.Contains(t, joined, "beta: connection error: dial tcp")
	require.NotContains(t, joined, "off", "a connection that is not monitored has no problems")
	require.NotContains(t, joined, "pg_database", "unavailable is not a problem")
	require.NotEmpty(t, fleet.RecentErrors)
	require.Equal(t, "beta", fleet.RecentErrors[0].Connection, "newest first")

	series := obs.LoadSeries(ctx, pool, seed.Alpha, time.Now().Add(-time.Hour))
	byKey := map[string]obs.Series{}
	for _, s := range series {
		require.Empty(t, s.Error, s.Key)
		byKey[s.Key] = s
	}
	last := func(key string) float64 {
		pts := byKey[key].Points
		require.NotEmpty(t, pts, key)
		return pts[len(pts)-1][1]
	}
	require.Len(t, byKey["connections"].Points, seed.Samples)
	require.Contains(t, []float64{3, 4}, last("connections"))
	require.Len(t, byKey["tps"].Points, seed.Samples-1, "one rate per pair of runs")
	require.InDelta(t, 20, last("tps"), 0.1, "two databases at 10/s")
	require.InDelta(t, 99, last("cache_hit_ratio"), 0.01)
	require.InDelta(t, 1<<20, last("wal_rate"), 1)
	require.InDelta(t, 1, last("replication_lag"), 0.001)

	empty := obs.LoadSeries(ctx, pool, seed.Beta, time.Now().Add(-time.Hour))
	for _, s := range empty {
		require.Empty(t, s.Error, s.Key)
		require.Empty(t, s.Points, s.Key)
	}
}
