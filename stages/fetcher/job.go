package fetcher

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/pgcollector/pgcollector/bus"
	"github.com/pgcollector/pgcollector/internal/catalog"
	"github.com/pgcollector/pgcollector/probes"
)

// handle runs one job and settles its message: ack when every batch is
// stored by JetStream (or the job is stale or obsolete), nak when the
// buffer is full or the fetcher is shutting down, so the job is retried.
func (f *Fetcher) handle(ctx context.Context, msg jetstream.Msg) {
	job, err := bus.DecodeJob(msg.Data(), msg.Headers())
	if err != nil {
		f.log.Error("undecodable job terminated", "subject", msg.Subject(), "err", err)
		_ = msg.Term()
		return
	}
	log := f.log.With("connection_id", job.ConnectionID, "probe", job.Probe, "slot", job.Slot)
	// A job is stale once a whole interval has passed since its slot
	// ended: by then the next slot's job is due, and running this one
	// would only delay it.
	if age := f.now().Sub(job.ScheduledAt); age > 2*time.Duration(job.IntervalSeconds)*time.Second {
		f.stats.JobsStale.Add(1)
		log.Warn("stale job dropped: its slot ended more than one interval ago", "age", age.Round(time.Millisecond))
		_ = msg.Ack()
		return
	}
	conn, okConn := f.src.Connection(job.ConnectionID)
	pc, okCfg := f.src.Probe(job.Probe)
	p, errProbe := probes.ByName(job.Probe)
	if !okConn || !okCfg || errProbe != nil || !pc.Enabled {
		// The connection was removed or disabled, or the probe disabled,
		// after the job was published: the job is obsolete, not failed.
		_ = msg.Ack()
		return
	}
	log = log.With("connection", conn.Name)
	err = f.runJob(ctx, msg, job, conn, p, pc, log)
	switch {
	case err == nil:
		f.clearBufferFull(log)
		f.stats.JobsDone.Add(1)
		_ = msg.Ack()
	case errors.Is(err, bus.ErrBufferFull):
		f.stats.BufferFull.Add(1)
		f.stats.JobsRequeued.Add(1)
		if !f.bufferFull.Swap(true) {
			log.Error("batch buffer PGC_BATCHES is full of unacknowledged data: collection paused until the sink catches up; nothing is dropped",
				"err", err)
		}
		_ = msg.NakWithDelay(5 * time.Second)
	case ctx.Err() != nil:
		f.stats.JobsRequeued.Add(1)
		_ = msg.Nak()
	default:
		// A probe failure is recorded as a status batch by runJob; what
		// reaches here is a publish failure, which a retry may cure.
		f.stats.JobsFailed.Add(1)
		log.Warn("job failed; will be retried", "err", err)
		_ = msg.NakWithDelay(2 * time.Second)
	}
}

func (f *Fetcher) clearBufferFull(log *slog.Logger) {
	if f.bufferFull.Swap(false) {
		log.Info("batch buffer has room again: collection resumed")
	}
}

// runJob runs the probe on the server or on each of its databases and
// publishes the batches. Probe errors become status batches; only publish
// errors are returned.
func (f *Fetcher) runJob(ctx context.Context, msg jetstream.Msg, job bus.Job, conn catalog.Connection,
	p probes.Probe, pc catalog.ProbeConfig, log *slog.Logger) error {
	if p.Scope == probes.ScopeServer {
		return f.runOn(ctx, job, conn, p, pc, conn.Database, log)
	}
	dbs, err := f.databases(ctx, conn)
	if err != nil {
		log.Warn("cannot list databases", "err", err)
		return f.publishStatus(ctx, job, conn, p, "", false, err.Error())
	}
	for _, db := range dbs {
		if err := f.runOn(ctx, job, conn, p, pc, db, log.With("database", db)); err != nil {
			return err
		}
		if p.ClusterWide && f.avail.available(conn.ID, db, p.Name) {
			// The source shows the whole cluster: one database is enough.
			break
		}
		_ = msg.InProgress()
	}
	return nil
}
