package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgcollector/pgcollector/internal/pgtest"
	"github.com/pgcollector/pgcollector/probes"
)

// StorageShape is one monitored server whose datastore cost is measured.
type StorageShape struct {
	Name    string
	Content Content
}

// StorageOptions size one datastore-cost measurement.
type StorageOptions struct {
	Bin      string        // the pgcollector binary
	Dir      string        // scratch directory for the collector's files
	Interval time.Duration // every probe's compressed interval
	Runs     int           // runs of pg_stat_all_tables to wait for, per database
	Touch    float64       // fraction of each database's tables written between runs
	Extra    []string      // extra collector settings (KEY=VALUE)
	// CopyRuns is how many runs of pg_stat_all_tables the btree/BRIN copy
	// holds (the collected runs repeated at the default interval).
	CopyRuns int
}

// StorageResult is the datastore cost of one shape.
type StorageResult struct {
	Shape     string
	Databases int // databases the database probes ran on (postgres included)
	AppDBs    int
	Tables    int
	Elapsed   time.Duration
	Probes    []ProbeStorage
	Index     IndexCompare
}

// MeasureStorage starts a monitored cluster of the shape, collects it with
// the real binary into a fresh datastore database on ds at the compressed
// interval until Runs runs of pg_stat_all_tables are stored, writing to a
// fraction of the tables meanwhile, and reads what the datastore holds.
func MeasureStorage(ctx context.Context, ds *pgtest.Cluster, shape StorageShape, o StorageOptions,
	say func(string, ...any)) (*StorageResult, error) {
	say("%s: starting a cluster with %d databases × %d tables", shape.Name, shape.Content.AppDatabases, shape.Content.Tables)
	mon, err := pgtest.StartCluster(ctx, pgtest.Options{Settings: monitoredSettings(50)})
	if err != nil {
		return nil, err
	}
	defer mon.Close()
	if err := populate(ctx, mon, shape.Content); err != nil {
		return nil, err
	}
	dbName := "store_" + shape.Name
	if err := execOn(ctx, ds.DSN("postgres"), "CREATE DATABASE "+pgx.Identifier{dbName}.Sanitize()); err != nil {
		return nil, err
	}
	dir := filepath.Join(o.Dir, shape.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	c, err := NewCollector(o.Bin, dir, ds.DSN(dbName), o.Extra...)
	if err != nil {
		return nil, err
	}
	if _, err := c.Run(ctx, "migrate"); err != nil {
		return nil, err
	}
	pool, err := pgxpool.New(ctx, ds.DSN(dbName))
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	if err := Register(ctx, pool, c.SecretFile, []Target{{Host: mon.Host, Port: mon.Port}}, 1); err != nil {
		return nil, err
	}
	iv := map[string]int{}
	for _, p := range probes.All {
		iv[p.Name] = int(o.Interval.Seconds())
	}
	if err := SetIntervals(ctx, pool, iv); err != nil {
		return nil, err
	}
	say("%s: collecting every %s until %d runs of pg_stat_all_tables are stored", shape.Name, o.Interval, o.Runs)
	started := time.Now()
	if err := c.Start(); err != nil {
		return nil, err
	}
	stopped := false
	defer func() {
		if !stopped {
			c.Stop(30 * time.Second)
		}
	}()
	dbs := []string{"postgres"}
	for i := 1; i <= shape.Content.AppDatabases; i++ {
		dbs = append(dbs, AppDatabase(i))
	}
	deadline := time.Now().Add(time.Duration(o.Runs+6) * o.Interval * 3)
	for {
		if err := touchTables(ctx, mon, dbs[1:], shape.Content.Tables, o.Touch); err != nil {
			return nil, err
		}
		var runs int
		if err := pool.QueryRow(ctx, `SELECT coalesce(min(n), 0) FROM (SELECT count(DISTINCT collected_at) AS n
FROM metrics.pg_stat_all_tables GROUP BY database_name) s`).Scan(&runs); err != nil {
			return nil, err
		}
		if runs >= o.Runs {
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%s: only %d runs of pg_stat_all_tables stored after %s; log %s",
				shape.Name, runs, time.Since(started).Round(time.Second), c.LogPath)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(o.Interval / 2):
		}
	}
	if code := c.Stop(60 * time.Second); code != 0 {
		return nil, fmt.Errorf("%s: pgcollector run exited %d after SIGTERM; log %s", shape.Name, code, c.LogPath)
	}
	stopped = true
	r := &StorageResult{Shape: shape.Name, Databases: len(dbs), AppDBs: shape.Content.AppDatabases,
		Tables: shape.Content.Tables, Elapsed: time.Since(started)}
	say("%s: reading sizes", shape.Name)
	if r.Probes, err = ReadProbeStorage(ctx, pool); err != nil {
		return nil, err
	}
	say("%s: btree against BRIN on a copy of pg_stat_all_tables (%d runs)", shape.Name, o.CopyRuns)
	if r.Index, err = CompareIndexes(ctx, pool, o.CopyRuns); err != nil {
		return nil, err
	}
	return r, nil
}

// touchTables writes one row and reads one of a random fraction of each
// database's tables, so that between runs some counters move and the rest
// stay as they were, as on a server whose application uses some of its
// tables at a time.
func touchTables(ctx context.Context, c *pgtest.Cluster, dbs []string, tables int, fraction float64) error {
	n := max(1, int(float64(tables)*fraction))
	for _, db := range dbs {
		conn, err := pgx.Connect(ctx, c.DSN(db))
		if err != nil {
			return fmt.Errorf("touch %s: %w", db, err)
		}
		b := &pgx.Batch{}
		for _, t := range rand.Perm(tables)[:n] {
			b.Queue(fmt.Sprintf("UPDATE t%d SET v = md5(v), ts = now() WHERE id = $1", t+1), 1+rand.IntN(40))
			b.Queue(fmt.Sprintf("SELECT count(*) FROM t%d WHERE k = $1", t+1), 1+rand.IntN(40))
		}
		err = conn.SendBatch(ctx, b).Close()
		_ = conn.Close(ctx)
		if err != nil {
			return fmt.Errorf("touch %s: %w", db, err)
		}
	}
	return nil
}

func execOn(ctx context.Context, dsn string, sql ...string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	for _, s := range sql {
		if _, err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}
