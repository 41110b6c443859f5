package retention

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/bus"
	"github.com/pgcollector/pgcollector/internal/partition"
)

// TestStageDropsExpiredPartitions is the acceptance flow of issue 6 on the
// real clock: old weeks of an enabled and of a disabled probe go, last
// week's and this week's stay with their rows, each probe's own retention
// applies, a repeated tick of the same period is deduplicated, and next
// week's partition of every enabled probe exists afterwards.
func TestStageDropsExpiredPartitions(t *testing.T) {
	e := setup(t)
	e.exec(t, `UPDATE public.probes SET is_enabled = false, retention_days = 7 WHERE name = 'pg_stat_database'`)
	e.exec(t, `UPDATE public.probes SET retention_days = 7 WHERE name = 'pg_stat_activity'`)
	now := time.Now()
	var wantDropped, wantKept []string
	for _, probe := range []string{"pg_stat_activity", "pg_stat_database"} {
		wantKept = append(wantKept, e.weeksAgo(t, probe, now, 0), e.weeksAgo(t, probe, now, 1))
		for _, n := range []int{3, 5, 10} {
			wantDropped = append(wantDropped, "metrics."+e.weeksAgo(t, probe, now, n))
		}
	}
	// pg_settings keeps a year: its own row decides, not another probe's.
	wantKept = append(wantKept, e.weeksAgo(t, "pg_settings", now, 10))
	// Not a name retention made: left alone however old.
	e.exec(t, `CREATE TABLE metrics.pg_stat_activity_archive PARTITION OF metrics.pg_stat_activity
FOR VALUES FROM ('2000-01-03 00:00:00+00') TO ('2000-01-10 00:00:00+00')`)
	e.exec(t, `INSERT INTO metrics.pg_stat_activity (connection_id, collected_at, pid)
SELECT 1, now(), g FROM generate_series(1, 10) g`)
	e.exec(t, `INSERT INTO metrics.pg_stat_database (connection_id, collected_at, database_name) VALUES (1, now(), 'db')`)
	rowsBefore := e.count(t, `SELECT (SELECT count(*) FROM metrics.pg_stat_activity) + (SELECT count(*) FROM metrics.pg_stat_database)`)

	e.start(t, e.newStage(t, nil))
	period := now.UTC().Format(time.DateOnly)
	e.tick(t, period)
	require.Eventually(t, func() bool {
		return e.runs() == 1 && e.settled()
	}, 30*time.Second, 50*time.Millisecond)

	var dropped []string
	var n int
	var errText *string
	var started, finished time.Time
	require.NoError(t, e.pool.QueryRow(e.ctx, `SELECT dropped, partitions_dropped, error, started_at, finished_at
FROM public.retention_runs`).Scan(&dropped, &n, &errText, &started, &finished))
	require.Equal(t, sorted(wantDropped...), sorted(dropped...))
	require.Equal(t, len(wantDropped), n)
	require.Nil(t, errText)
	require.False(t, finished.Before(started))

	next := now.Add(partition.Length)
	require.Equal(t, sorted(wantKept[0], wantKept[1], "pg_stat_activity_archive", partition.Name("pg_stat_activity", next)),
		e.partitions(t, "pg_stat_activity"))
	// Disabled: cleaned, but no new week made for it.
	require.Equal(t, sorted(wantKept[2], wantKept[3]), e.partitions(t, "pg_stat_database"))
	require.Contains(t, e.partitions(t, "pg_settings"), wantKept[4])
	require.Contains(t, e.partitions(t, "pg_settings"), partition.Name("pg_settings", next))
	require.Equal(t, rowsBefore, e.count(t,
		`SELECT (SELECT count(*) FROM metrics.pg_stat_activity) + (SELECT count(*) FROM metrics.pg_stat_database)`))

	// Every scheduler publishes the same period: JetStream keeps one.
	e.tick(t, period)
	s, err := e.bus.JS().Stream(e.ctx, bus.StreamTimers)
	require.NoError(t, err)
	info, err := s.Info(e.ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(1), info.State.LastSeq, "the repeated tick was stored")
	time.Sleep(500 * time.Millisecond)
	require.Equal(t, 1, e.count(t, `SELECT count(*) FROM public.retention_runs`))

	// The next period runs again and, with nothing left to do, drops nothing.
	e.tick(t, now.UTC().AddDate(0, 0, 1).Format(time.DateOnly))
	require.Eventually(t, func() bool {
		return e.runs() == 2 && e.settled()
	}, 30*time.Second, 50*time.Millisecond)
	require.Equal(t, 0, e.count(t, `SELECT partitions_dropped FROM public.retention_runs ORDER BY id DESC LIMIT 1`))
}

// TestRunAcrossYearEndWithBusyTable runs one pass on an injected clock at
// the turn of the year while a dashboard holds a lock on one probe's
// table: that probe's drops fail fast and are recorded, the others go on.
func TestRunAcrossYearEndWithBusyTable(t *testing.T) {
	e := setup(t)
	now := time.Date(2027, 1, 2, 12, 0, 0, 0, time.UTC) // Saturday, week of 2026-12-28
	s := e.newStage(t, func() time.Time { return now })
	for _, probe := range []string{"pg_stat_activity", "pg_stat_database"} {
		for _, n := range []int{0, 1, 2, 5} {
			e.weeksAgo(t, probe, now, n)
		}
	}
	busy, err := pgx.Connect(e.ctx, e.c.DSN("postgres"))
	require.NoError(t, err)
	defer func() { _ = busy.Close(e.ctx) }()
	tx, err := busy.Begin(e.ctx)
	require.NoError(t, err)
	_, err = tx.Exec(e.ctx, `SELECT count(*) FROM metrics.pg_stat_database`)
	require.NoError(t, err)

	calls := 0
	run, err := s.run(e.ctx, func() { calls++ })
	require.NoError(t, err)
	require.Positive(t, calls)
	require.Equal(t, now, run.StartedAt)
	require.Equal(t, []string{"metrics.pg_stat_activity_20261123", "metrics.pg_stat_activity_20261214"}, run.Dropped)
	require.Contains(t, run.Error, "metrics")
	require.Contains(t, run.Error, "pg_stat_database_20261123")
	require.Contains(t, run.Error, "lock timeout")
	require.Equal(t, []string{"pg_stat_activity_20261221", "pg_stat_activity_20261228", "pg_stat_activity_20270104"},
		e.partitions(t, "pg_stat_activity"))
	require.NoError(t, tx.Rollback(e.ctx))

	// The next pass picks up what the busy table kept, and records it.
	run, err = s.run(e.ctx, func() {})
	require.NoError(t, err)
	require.Equal(t, []string{"metrics.pg_stat_database_20261123", "metrics.pg_stat_database_20261214"}, run.Dropped)
	require.Empty(t, run.Error)
	require.Equal(t, []string{"pg_stat_database_20261221", "pg_stat_database_20261228", "pg_stat_database_20270104"},
		e.partitions(t, "pg_stat_database"))
}

// TestStageWaitsOutDatastoreOutage: a tick arriving while the datastore is
// down is retried until it is back, and messages that are not retention
// ticks are terminated without a run.
func TestStageWaitsOutDatastoreOutage(t *testing.T) {
	e := setup(t)
	e.start(t, e.newStage(t, nil))

	_, err := e.bus.JS().Publish(e.ctx, bus.TickSubject(timerName), []byte("not json"))
	require.NoError(t, err)
	require.NoError(t, e.bus.PublishTick(e.ctx, bus.Tick{Name: "other", Period: "1", At: time.Now()}))
	require.Eventually(t, func() bool { return e.settled() }, 10*time.Second, 50*time.Millisecond)
	require.Equal(t, 0, e.count(t, `SELECT count(*) FROM public.retention_runs`))

	require.NoError(t, e.c.Stop())
	e.tick(t, "outage")
	cons, err := e.bus.Timers(e.ctx)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		info, err := cons.Info(e.ctx)
		return err == nil && info.NumRedelivered > 0
	}, 10*time.Second, 50*time.Millisecond, "the tick is negatively acknowledged and redelivered")
	require.NoError(t, e.c.Restart())
	require.Eventually(t, func() bool { return e.runs() == 1 && e.settled() }, 30*time.Second, 100*time.Millisecond)
}
