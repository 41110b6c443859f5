package obs

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
)

// Series is one chart of the page: points are [unix milliseconds, value].
type Series struct {
	Key    string       `json:"key"`
	Title  string       `json:"title"`
	Unit   string       `json:"unit"`
	Points [][2]float64 `json:"points"`
	Error  string       `json:"error,omitempty"`
}

// chart is a key metric read from metrics.<probe> for one connection: $1
// is the connection id, $2 the start of the range. Each query returns
// (time, value) rows in time order.
type chart struct {
	key, title, unit, table, sql string
}

// Counters are turned into rates per database first and summed per run
// of the probe afterwards: the databases of one run have slightly
// different collection times, and a stats reset (a negative difference)
// must not make a spike. A run is the samples less than half an interval
// apart.
const perDatabaseRates = `
WITH iv AS (SELECT greatest(collection_interval_seconds, 1) AS s FROM public.probes WHERE name = 'pg_stat_database'),
d AS (
    SELECT collected_at,
           (xact_commit + xact_rollback) - lag(xact_commit + xact_rollback) OVER w AS dx,
           blks_hit - lag(blks_hit) OVER w AS dh,
           blks_read - lag(blks_read) OVER w AS dr,
           extract(epoch FROM collected_at - lag(collected_at) OVER w)::float8 AS dt
    FROM metrics.pg_stat_database
    WHERE connection_id = $1 AND collected_at >= $2
    WINDOW w AS (PARTITION BY database_name ORDER BY collected_at)),
g AS (
    SELECT d.*, CASE WHEN extract(epoch FROM collected_at - lag(collected_at) OVER (ORDER BY collected_at)) > iv.s / 2.0
                     THEN 1 ELSE 0 END AS brk
    FROM d, iv WHERE dt > 0),
r AS (SELECT g.*, sum(brk) OVER (ORDER BY collected_at) AS run FROM g)
`

var charts = []chart{
	{"connections", "Client connections", "", "pg_stat_activity", `
SELECT collected_at, count(*) FILTER (WHERE backend_type = 'client backend')::float8
FROM metrics.pg_stat_activity WHERE connection_id = $1 AND collected_at >= $2
GROUP BY collected_at ORDER BY collected_at`},
	{"tps", "Transactions per second", "/s", "pg_stat_database", perDatabaseRates + `
SELECT min(collected_at), sum(dx / dt) FILTER (WHERE dx >= 0)::float8
FROM r GROUP BY run ORDER BY 1`},
	{"cache_hit_ratio", "Cache hit ratio", "%", "pg_stat_database", perDatabaseRates + `
SELECT min(collected_at),
       (100 * sum(dh) FILTER (WHERE dh >= 0 AND dr >= 0) / nullif(sum(dh + dr) FILTER (WHERE dh >= 0 AND dr >= 0), 0))::float8
FROM r GROUP BY run ORDER BY 1`},
	{"wal_rate", "WAL generated", "B/s", "pg_stat_wal", `
SELECT t, v FROM (
    SELECT collected_at AS t,
           ((wal_bytes - lag(wal_bytes) OVER w) / nullif(extract(epoch FROM collected_at - lag(collected_at) OVER w), 0))::float8 AS v
    FROM metrics.pg_stat_wal WHERE connection_id = $1 AND collected_at >= $2
    WINDOW w AS (ORDER BY collected_at)) x
WHERE v >= 0 ORDER BY t`},
	// A primary reports its standbys' replay_lag (NULL once a standby is
	// idle and caught up, hence 0); a standby reports how long ago its
	// WAL receiver last heard from the primary.
	{"replication_lag", "Replication lag", "s", "pg_stat_replication", `
SELECT collected_at, max(CASE WHEN role = 'primary' THEN coalesce(extract(epoch FROM replay_lag), 0)
                              ELSE extract(epoch FROM collected_at - last_msg_receipt_time) END)::float8
FROM metrics.pg_stat_replication WHERE connection_id = $1 AND collected_at >= $2
GROUP BY collected_at ORDER BY collected_at`},
}

// maxPoints bounds each series; longer ones are averaged into buckets.
const maxPoints = 240

// LoadSeries reads the key metrics of one connection since since. A chart
// whose table is missing or whose query fails carries the error; the
// others are still returned.
func LoadSeries(ctx context.Context, q Querier, connection int64, since time.Time) []Series {
	out := make([]Series, 0, len(charts))
	for _, c := range charts {
		s := Series{Key: c.key, Title: c.title, Unit: c.unit, Points: [][2]float64{}}
		pts, err := queryPoints(ctx, q, c, connection, since)
		if err != nil {
			s.Error = err.Error()
		} else {
			s.Points = downsample(pts, maxPoints)
		}
		out = append(out, s)
	}
	return out
}

func queryPoints(ctx context.Context, q Querier, c chart, connection int64, since time.Time) ([][2]float64, error) {
	var exists bool
	if err := q.QueryRow(ctx, `SELECT to_regclass('metrics.' || $1) IS NOT NULL`, c.table).Scan(&exists); err != nil {
		return nil, fmt.Errorf("%s: %w", c.key, err)
	}
	if !exists {
		return nil, fmt.Errorf("%s: table metrics.%s does not exist", c.key, c.table)
	}
	rows, err := q.Query(ctx, c.sql, connection, since)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.key, err)
	}
	var pts [][2]float64
	var t time.Time
	var v *float64
	_, err = pgx.ForEachRow(rows, []any{&t, &v}, func() error {
		if v != nil && !math.IsNaN(*v) && !math.IsInf(*v, 0) {
			pts = append(pts, [2]float64{float64(t.UnixMilli()), *v})
		}
		v = nil
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.key, err)
	}
	return pts, nil
}

// downsample averages consecutive points into at most n buckets.
func downsample(pts [][2]float64, n int) [][2]float64 {
	if len(pts) <= n {
		if pts == nil {
			return [][2]float64{}
		}
		return pts
	}
	out := make([][2]float64, 0, n)
	per := float64(len(pts)) / float64(n)
	for i := 0; i < n; i++ {
		lo, hi := int(float64(i)*per), int(float64(i+1)*per)
		var t, v float64
		for _, p := range pts[lo:hi] {
			t += p[0]
			v += p[1]
		}
		k := float64(hi - lo)
		out = append(out, [2]float64{t / k, v / k})
	}
	return out
}
