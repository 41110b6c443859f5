package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgcollector/pgcollector/bus"
	"github.com/pgcollector/pgcollector/internal/pgtest"
)

// DrainOptions time the backlog drain.
type DrainOptions struct {
	Outage   time.Duration // how long the datastore is down while the fleet is collected
	MaxDrain time.Duration // give up waiting for the backlog after this
}

// Drain is what the backlog drain measured.
type Drain struct {
	Outage            time.Duration
	StopAt, ReadyAt   time.Time
	FirstCommit, Done time.Time
	BacklogBatches    uint64 // sink consumer backlog when the datastore came back
	BacklogBytes      uint64 // PGC_BATCHES growth over the outage
	Rows              int64  // rows committed from the first commit after restart to the backlog's last
	Unchanged         int64  // of Rows, those change-only storage left out as unchanged (the sink's counter)
	RowsPerSecond     float64
	WaitAfterRestart  time.Duration // datastore ready → first commit (the sink's retry backoff)
	PeakRSS           int64
	Stale             int64
	StopNote          string // set when the datastore had to be killed rather than stopped
}

// MeasureDrain stops the datastore for o.Outage while the collector keeps
// collecting into PGC_BATCHES, restarts it, and measures how fast the sink
// stores the backlog: the rows committed between the first commit after
// the restart and the commit of the last batch collected before it,
// divided by that time. New batches keep arriving meanwhile and count as
// drained rows too, as they would in production.
func MeasureDrain(ctx context.Context, c *Collector, w *Watch, store *pgtest.Cluster, ds *pgxpool.Pool,
	started time.Time, o DrainOptions) (Drain, error) {
	d := Drain{Outage: o.Outage}
	pid := c.Pid()
	if err := ResetPeakRSS(pid); err != nil {
		return d, err
	}
	stale0, _ := staleCount(ctx, c, started, time.Now())
	bytes0, _ := w.StreamBytes(ctx, bus.StreamBatches)
	// A checkpoint first keeps the shutdown checkpoint short: on a loaded
	// machine a fast shutdown of a datastore full of dirty buffers can
	// outlast the harness's patience.
	if _, err := ds.Exec(ctx, "CHECKPOINT"); err != nil {
		return d, fmt.Errorf("checkpoint before stopping the datastore: %w", err)
	}
	d.StopAt = time.Now()
	if err := store.Stop(); err != nil {
		// The harness killed it instead: down all the same, and Restart
		// recovers it, so the drain is still measured.
		d.StopNote = err.Error()
	}
	if !sleepCtx(ctx, o.Outage) {
		return d, ctx.Err()
	}
	if b, err := w.Backlog(ctx, bus.StreamBatches, bus.ConsumerSink); err == nil {
		d.BacklogBatches = b.Total()
	}
	// The backlog is every batch buffered up to the restart; batches the
	// fleet publishes during the drain are not part of it, and on a busy
	// machine they may keep the consumer from ever being empty.
	st, err := w.StreamState(ctx, bus.StreamBatches)
	if err != nil {
		return d, fmt.Errorf("read the backlog's end: %w", err)
	}
	d.BacklogBytes = st.Bytes - min(bytes0, st.Bytes)
	backlogEnd := st.LastSeq
	if err := store.Restart(); err != nil {
		return d, fmt.Errorf("restart the datastore: %w", err)
	}
	d.ReadyAt = time.Now()
	unchanged0 := unchangedRows(ctx, c)
	deadline := d.ReadyAt.Add(o.MaxDrain)
	for {
		if done, err := c.Exited(); done {
			return d, fmt.Errorf("collector exited during the drain: %v", err)
		}
		if err := checkMemory(); err != nil {
			return d, err
		}
		b, err := w.Backlog(ctx, bus.StreamBatches, bus.ConsumerSink)
		if err == nil && (b.Pending == 0 || b.AckFloor >= backlogEnd) {
			d.Unchanged = unchangedRows(ctx, c) - unchanged0
			break
		}
		if time.Now().After(deadline) {
			return d, fmt.Errorf("backlog not drained %s after the restart (sink acknowledged up to sequence %d of %d)",
				o.MaxDrain, b.AckFloor, backlogEnd)
		}
		if !sleepCtx(ctx, 250*time.Millisecond) {
			return d, ctx.Err()
		}
	}
	// The last backlog batches may still be in a flush.
	sleepCtx(ctx, 3*time.Second)
	d.PeakRSS, _ = PeakRSS(pid)
	stale1, _ := staleCount(ctx, c, started, time.Now())
	d.Stale = stale1 - stale0
	var ok bool
	if d.FirstCommit, ok, err = FirstCommitSince(ctx, ds, d.ReadyAt.Add(-time.Second)); err != nil || !ok {
		return d, fmt.Errorf("no commit after the restart: %v", err)
	}
	since := d.StopAt.Add(-5 * time.Minute)
	if d.Done, err = LastCommitOfCollected(ctx, ds, since, d.ReadyAt); err != nil {
		return d, err
	}
	d.WaitAfterRestart = d.FirstCommit.Sub(d.ReadyAt)
	if d.Rows, err = RowsCommitted(ctx, ds, since, d.FirstCommit, d.Done); err != nil {
		return d, err
	}
	d.Rows += d.Unchanged
	if took := d.Done.Sub(d.FirstCommit).Seconds(); took > 0 {
		d.RowsPerSecond = float64(d.Rows) / took
	}
	return d, nil
}

// unchangedRows is the sink's count of rows left out as unchanged
// (pgcollector_sink_rows_unchanged_total), 0 when it cannot be read.
func unchangedRows(ctx context.Context, c *Collector) int64 {
	const metric = "pgcollector_sink_rows_unchanged_total"
	sums, _, err := Scrape(ctx, c.HTTPAddr, metric)
	if err != nil {
		return 0
	}
	return int64(sums[metric])
}
