package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"

	"github.com/pgcollector/pgcollector/internal/pgtest"
	"github.com/pgcollector/pgcollector/probes"
)

// Fleet is the monitored side: a few clusters with application content
// that N simulated servers point at, and the datastore cluster.
type Fleet struct {
	Clusters  []*pgtest.Cluster
	Datastore *pgtest.Cluster
	Content   Content
}

// MonitoredNice is the niceness of the simulated monitored servers (see
// FleetOptions.Nice), the lowest priority there is: what they run on is
// what the collector and the datastore leave, as if they were elsewhere.
// At nice 10 (weight 110 against 1,024) sixteen runnable backends still
// outweighed the datastore, and the sink's transactions waited seconds
// for a CPU.
const MonitoredNice = 19

// FleetOptions size the fleet.
type FleetOptions struct {
	Clusters       int
	Content        Content
	MaxConnections int // per monitored cluster
	// Nice is the niceness the monitored clusters run at. They stand for
	// other machines: at the same priority, a thousand servers' worth of
	// backends on this machine's two cores would take the CPU from the
	// collector and the datastore, which in a real deployment they never
	// share. Their CPU is still measured (the monitored figures).
	Nice int
	// Versions are the majors of the clusters, round robin (none: the
	// harness default).
	Versions []int
}

// StartFleet starts the monitored clusters (populated in parallel) and
// the datastore. The datastore keeps commit timestamps, which is how the
// ingest lag is measured (collected_at → the commit that stored it).
func StartFleet(ctx context.Context, o FleetOptions) (*Fleet, error) {
	f := &Fleet{Content: o.Content, Clusters: make([]*pgtest.Cluster, o.Clusters)}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	for i := range o.Clusters {
		g.Go(func() error {
			version := 0
			if len(o.Versions) > 0 {
				version = o.Versions[i%len(o.Versions)]
			}
			c, err := pgtest.StartCluster(gctx, pgtest.Options{Version: version, Settings: monitoredSettings(o.MaxConnections)})
			if err != nil {
				return err
			}
			mu.Lock()
			f.Clusters[i] = c
			mu.Unlock()
			if err := populate(gctx, c, o.Content); err != nil {
				return err
			}
			return renice(c.DataDir, o.Nice)
		})
	}
	g.Go(func() error {
		c, err := pgtest.StartCluster(gctx, pgtest.Options{Settings: map[string]string{
			"track_commit_timestamp": "on",
			"max_connections":        "300",
			"shared_buffers":         "512MB",
			"max_wal_size":           "4GB",
			"checkpoint_timeout":     "15min",
		}})
		if err != nil {
			return err
		}
		mu.Lock()
		f.Datastore = c
		mu.Unlock()
		return nil
	})
	if err := g.Wait(); err != nil {
		return nil, errors.Join(err, f.Close())
	}
	return f, nil
}

// Close stops every cluster and removes its files.
func (f *Fleet) Close() error {
	var errs []error
	for _, c := range append(append([]*pgtest.Cluster{}, f.Clusters...), f.Datastore) {
		if c != nil {
			errs = append(errs, c.Close())
		}
	}
	return errors.Join(errs...)
}

// Databases lists the databases a database-scoped probe runs on in each
// cluster, the maintenance database first as the fetcher orders them.
func (f *Fleet) Databases() []string {
	dbs := []string{"postgres"}
	for i := 1; i <= f.Content.AppDatabases; i++ {
		dbs = append(dbs, AppDatabase(i))
	}
	return dbs
}

// CreateDatastoreDatabase creates a database on the datastore cluster.
func (f *Fleet) CreateDatastoreDatabase(ctx context.Context, name string) error {
	conn, err := pgx.Connect(ctx, f.Datastore.DSN("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	return err
}

// Intervals returns each probe's interval after time compression: the
// catalogue default divided by factor, at least one second.
func Intervals(factor int) map[string]int {
	out := make(map[string]int, len(probes.All))
	for _, p := range probes.All {
		out[p.Name] = max(1, p.IntervalSeconds/max(1, factor))
	}
	return out
}

// SlotsDue is how many (connection, probe) slots begin in a window for
// servers at the intervals of factor: the jobs the scheduler has to
// publish if none is skipped, whatever each one then stores.
func SlotsDue(servers, factor int, window time.Duration) float64 {
	var perSecond float64
	for _, iv := range Intervals(factor) {
		perSecond += 1 / float64(iv)
	}
	return float64(servers) * perSecond * window.Seconds()
}

// CompressedNote says in words what a compression factor means.
func CompressedNote(factor int) string {
	if factor <= 1 {
		return "default intervals"
	}
	return fmt.Sprintf("intervals divided by %d (pg_connectivity every %s, database probes every %s)",
		factor, time.Duration(30/factor)*time.Second, time.Duration(300/factor)*time.Second)
}
