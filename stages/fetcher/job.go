package fetcher

import (
	"context"
	"errors"
	"fmt"
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
		f.obs.Poison("fetcher")
		f.log.Error("undecodable job terminated", "subject", msg.Subject(), "err", err)
		_ = msg.Term()
		return
	}
	md, _ := msg.Metadata()
	if md != nil && md.NumDelivered > 1 {
		f.obs.Redelivered(bus.ConsumerFetcher)
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
	// Every message about a probe names the connection, the probe and the
	// database; at the job level of a database-scoped probe that is "*",
	// every database, and runJob narrows it per database.
	db := "*"
	if p.Scope == probes.ScopeServer {
		db = conn.Database
	}
	base := f.log.With("connection", conn.Name, "connection_id", job.ConnectionID, "probe", job.Probe, "slot", job.Slot)
	log := base.With("database", db)
	// A job is stale once a whole interval has passed since its slot
	// ended: by then the next slot's job is due, and running this one
	// would only delay it.
	if age := f.now().Sub(job.ScheduledAt); age > 2*time.Duration(job.IntervalSeconds)*time.Second {
		f.stats.JobsStale.Add(1)
		f.obs.JobStale(job.Probe)
		log.Warn("stale job dropped: its slot ended more than one interval ago", "age", age.Round(time.Millisecond))
		_ = msg.Ack()
		return
	}
	err = f.runJob(ctx, msg, job, conn, p, pc, base)
	// lastTry: JetStream will not deliver the job again, so a result
	// that was collected but not buffered is lost for good.
	lastTry := md != nil && f.maxDeliver > 0 && md.NumDelivered >= uint64(f.maxDeliver)
	switch {
	case err == nil:
		f.clearBufferFull(log)
		f.stats.JobsDone.Add(1)
		_ = msg.Ack()
	case errors.Is(err, bus.ErrBufferFull):
		f.stats.BufferFull.Add(1)
		f.bufferFullAt.Store(f.now().UnixNano())
		f.stats.JobsRequeued.Add(1)
		if !f.bufferFull.Swap(true) {
			f.obs.BufferFull(true)
			log.Error("batch buffer PGC_BATCHES is full of unacknowledged data: collection paused until the sink catches up; nothing is dropped",
				"err", err)
		}
		_ = msg.NakWithDelay(5 * time.Second)
	case ctx.Err() != nil:
		f.stats.JobsRequeued.Add(1)
		_ = msg.Nak()
	case lastTry:
		f.stats.JobsFailed.Add(1)
		f.obs.SamplesDropped(1)
		log.Error("job failed on its last delivery: this run's result is lost", "err", err,
			"deliveries", md.NumDelivered)
		_ = msg.Term()
	default:
		// A probe failure is recorded as a status batch by runJob; what
		// reaches here is a publish failure, which a retry may cure.
		f.stats.JobsFailed.Add(1)
		log.Warn("job failed; will be retried", "err", err)
		_ = msg.NakWithDelay(2 * time.Second)
	}
}

// bufferSettle is how long publishes must go through before a paused
// collection counts as resumed. A full buffer still takes a small batch
// now and then while refusing large ones; without it the log and the
// buffer_full gauge would flip every second.
const bufferSettle = 10 * time.Second

func (f *Fetcher) clearBufferFull(log *slog.Logger) {
	if !f.bufferFull.Load() || f.now().Sub(time.Unix(0, f.bufferFullAt.Load())) < bufferSettle {
		return
	}
	if f.bufferFull.Swap(false) {
		f.obs.BufferFull(false)
		log.Info("batch buffer has room again: collection resumed")
	}
}

// runJob runs the probe on the server or on each of its databases and
// publishes the batches. Probe errors become status batches; only publish
// errors are returned.
func (f *Fetcher) runJob(ctx context.Context, msg jetstream.Msg, job bus.Job, conn catalog.Connection,
	p probes.Probe, pc catalog.ProbeConfig, log *slog.Logger) error {
	// log names the connection and probe; each message adds the database.
	if p.Scope == probes.ScopeServer {
		return f.runOn(ctx, job, conn, p, pc, conn.Database, log.With("database", conn.Database))
	}
	listKey, listLog := availKey{conn.ID, "*", p.Name}, log.With("database", conn.Database)
	dbs, err := f.databases(ctx, conn)
	if err != nil {
		f.obs.ProbeRun(p.Name, ResultError, 0, 0)
		if f.acquireFailed(conn, err, listLog) {
			return f.publishConnectionError(ctx, job, conn, p, "", f.now().UTC(), err)
		}
		f.probeFailed(listKey, fmt.Errorf("list databases: %w", err), listLog)
		return f.publishStatus(ctx, job, conn, p, "", false, err.Error())
	}
	f.probeSucceeded(listKey, listLog)
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
