package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
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
	Dir      string        // scratch directory for the collectors' files
	Interval time.Duration // every probe's compressed interval
	Runs     int           // runs of pg_stat_all_tables to wait for, per database
	Touch    float64       // fraction of each database's tables written per interval
	// Variants are the collector settings (KEY=VALUE) to compare: one
	// collector per variant collects the same monitored cluster at the
	// same time into its own datastore database. Empty: one collector
	// with the default settings.
	Variants [][]string
	// CopyRuns is how many runs of pg_stat_all_tables the btree/BRIN copy
	// holds (the collected runs repeated at the default interval).
	CopyRuns int
	// CompareIndexes asks for the btree/BRIN comparison; RunStorage sets
	// it for the first shape only, since it measures per-row sizes and
	// per-connection reads, which the shape changes little.
	CompareIndexes bool
}

// StorageResult is the datastore cost of one shape under one variant.
type StorageResult struct {
	Shape     string
	Settings  []string // the variant's collector settings
	Databases int      // databases the database probes ran on (postgres included)
	AppDBs    int
	Tables    int
	Touch     float64
	Elapsed   time.Duration
	Probes    []ProbeStorage
	Layout    []LayoutCompare // only for the first variant
	Index     *IndexCompare   // only for the first variant
}

// MeasureStorage starts a monitored cluster of the shape, collects it with
// the real binary, one collector per variant, each into a fresh datastore
// database on ds, at the compressed interval until Runs runs of
// pg_stat_all_tables are stored everywhere, writing to a fraction of the
// tables meanwhile, and reads what each datastore database holds.
func MeasureStorage(ctx context.Context, ds *pgtest.Cluster, shape StorageShape, o StorageOptions,
	say func(string, ...any)) ([]*StorageResult, error) {
	variants := o.Variants
	if len(variants) == 0 {
		variants = [][]string{nil}
	}
	say("%s: starting a cluster with %d databases × %d tables", shape.Name, shape.Content.AppDatabases, shape.Content.Tables)
	mon, err := pgtest.StartCluster(ctx, pgtest.Options{Settings: monitoredSettings(50 + 30*len(variants))})
	if err != nil {
		return nil, err
	}
	defer mon.Close()
	if err := populate(ctx, mon, shape.Content); err != nil {
		return nil, err
	}
	dbs := []string{"postgres"}
	for i := 1; i <= shape.Content.AppDatabases; i++ {
		dbs = append(dbs, AppDatabase(i))
	}
	cs := make([]*Collector, len(variants))
	pools := make([]*pgxpool.Pool, len(variants))
	defer func() {
		for i := range cs {
			if cs[i] != nil {
				cs[i].Stop(30 * time.Second)
			}
			if pools[i] != nil {
				pools[i].Close()
			}
		}
	}()
	for i, v := range variants {
		dbName := fmt.Sprintf("store_%s_%d", shape.Name, i+1)
		if err := execOn(ctx, ds.DSN("postgres"), "CREATE DATABASE "+pgx.Identifier{dbName}.Sanitize()); err != nil {
			return nil, err
		}
		dir := filepath.Join(o.Dir, fmt.Sprintf("%s-%d", shape.Name, i+1))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		c, err := NewCollector(o.Bin, dir, ds.DSN(dbName), v...)
		if err != nil {
			return nil, err
		}
		if _, err := c.Run(ctx, "migrate"); err != nil {
			return nil, err
		}
		if pools[i], err = pgxpool.New(ctx, ds.DSN(dbName)); err != nil {
			return nil, err
		}
		if err := Register(ctx, pools[i], c.SecretFile, []Target{{Host: mon.Host, Port: mon.Port}}, 1); err != nil {
			return nil, err
		}
		iv := map[string]int{}
		for _, p := range probes.All {
			iv[p.Name] = int(o.Interval.Seconds())
		}
		if err := SetIntervals(ctx, pools[i], iv); err != nil {
			return nil, err
		}
		cs[i] = c
	}
	say("%s: %d collector(s) every %s until %d runs of pg_stat_all_tables are stored; %.0f%% of tables written per interval",
		shape.Name, len(cs), o.Interval, o.Runs, o.Touch*100)
	started := time.Now()
	for _, c := range cs {
		if err := c.Start(); err != nil {
			return nil, err
		}
	}
	if err := collectRuns(ctx, mon, dbs, shape, o, cs, pools, started, say); err != nil {
		return nil, err
	}
	elapsed := time.Since(started)
	// Every collector stops before any is read, so that none goes on
	// storing runs while another's rows are read and copied.
	for i, c := range cs {
		code := c.Stop(60 * time.Second)
		cs[i] = nil
		if code != 0 {
			return nil, fmt.Errorf("%s: pgcollector run exited %d after SIGTERM; log %s", shape.Name, code, c.LogPath)
		}
	}
	var out []*StorageResult
	for i := range pools {
		r := &StorageResult{Shape: shape.Name, Settings: variants[i], Databases: len(dbs), AppDBs: shape.Content.AppDatabases,
			Tables: shape.Content.Tables, Touch: o.Touch, Elapsed: elapsed}
		say("%s %s: reading sizes", shape.Name, r.SettingsNote())
		if r.Probes, err = ReadProbeStorage(ctx, pools[i]); err != nil {
			return nil, err
		}
		if i == 0 {
			say("%s: column order: each large probe's rows in the catalogue's order against alignment order", shape.Name)
			if r.Layout, err = CompareLayouts(ctx, pools[i], r.Probes); err != nil {
				return nil, err
			}
		}
		if i == 0 && o.CompareIndexes {
			say("%s: btree against BRIN on a copy of pg_stat_all_tables (%d runs)", shape.Name, o.CopyRuns)
			ix, err := CompareIndexes(ctx, pools[i], o.CopyRuns)
			if err != nil {
				return nil, err
			}
			r.Index = &ix
		}
		out = append(out, r)
	}
	return out, nil
}

// collectRuns writes to the tables once per interval until every
// collector's datastore holds Runs runs of pg_stat_all_tables in every
// database.
func collectRuns(ctx context.Context, mon *pgtest.Cluster, dbs []string, shape StorageShape, o StorageOptions,
	cs []*Collector, pools []*pgxpool.Pool, started time.Time, say func(string, ...any)) error {
	deadline := started.Add(time.Duration(o.Runs+6) * o.Interval * 3)
	for {
		if err := touchTables(ctx, mon, dbs[1:], shape.Content.Tables, o.Touch); err != nil {
			return err
		}
		least := o.Runs
		for i, pool := range pools {
			var runs int
			if err := pool.QueryRow(ctx, `SELECT coalesce(min(n), 0) FROM (SELECT count(DISTINCT collected_at) AS n
FROM metrics.pg_stat_all_tables GROUP BY database_name) s`).Scan(&runs); err != nil {
				return err
			}
			if done, err := cs[i].Exited(); done {
				return fmt.Errorf("%s: pgcollector run ended early (%v); log %s", shape.Name, err, cs[i].LogPath)
			}
			least = min(least, runs)
		}
		if least >= o.Runs {
			return awaitWholeSlots(ctx, pools, o.Interval, say)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: only %d runs of pg_stat_all_tables stored after %s; log %s",
				shape.Name, least, time.Since(started).Round(time.Second), cs[0].LogPath)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(o.Interval):
		}
	}
}

// SettingsNote names the variant's settings.
func (r *StorageResult) SettingsNote() string {
	if len(r.Settings) == 0 {
		return "default settings"
	}
	return strings.Join(r.Settings, " ")
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
