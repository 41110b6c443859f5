package fetcher

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/pgcollector/pgcollector/bus"
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
	// every database, and runDatabases narrows it per database.
	db := "*"
	if p.Scope == probes.ScopeServer {
		db = conn.Database
	}
	base := f.log.With("connection", conn.Name, "connection_id", job.ConnectionID, "probe", job.Probe, "slot", job.Slot)
	log := base.With("database", db)
	var deliveries uint64
	if md != nil {
		deliveries = md.NumDelivered
	}
	if age, stale := staleJob(job, deliveries, f.now()); stale {
		f.stats.JobsStale.Add(1)
		f.obs.JobStale(job.Probe)
		log.Warn("stale job dropped: its slot ended more than one interval ago", "age", age.Round(time.Millisecond))
		_ = msg.Ack()
		return
	}
	if p.Scope == probes.ScopeDatabase {
		f.runBurst(ctx, &dbJob{msg: msg, md: md, job: job, conn: conn, p: p, pc: pc, log: base})
		return
	}
	err = f.runOn(ctx, job, conn, p, pc, conn.Database, log)
	f.settle(ctx, msg, md, err, log)
}

// staleJob reports whether a job is too late to run, and its age. A job
// is stale once a whole interval has passed since its slot ended: by then
// the next slot's job is due, and running this one would only delay it.
// Not so a Sole job on its first delivery: the scheduler skipped its
// pair's later slots while it waited, so it is the pair's only job and
// the freshest sample to be had (see the scheduler's behind.go). A
// redelivered one may have been overtaken by a newer job.
func staleJob(j bus.Job, deliveries uint64, now time.Time) (time.Duration, bool) {
	age := now.Sub(j.ScheduledAt)
	if j.Sole && deliveries <= 1 {
		return age, false
	}
	return age, age > 2*time.Duration(j.IntervalSeconds)*time.Second
}

// settle acks, naks or terminates a job's message by the outcome of its
// run: err is a publish error (probe errors are data, published as status
// batches).
func (f *Fetcher) settle(ctx context.Context, msg jetstream.Msg, md *jetstream.MsgMetadata, err error, log *slog.Logger) {
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
		// A probe failure is recorded as a status batch; what reaches
		// here is a publish failure, which a retry may cure.
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
