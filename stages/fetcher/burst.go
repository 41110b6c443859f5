package fetcher

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/pgcollector/pgcollector/bus"
	"github.com/pgcollector/pgcollector/internal/catalog"
	"github.com/pgcollector/pgcollector/probes"
)

// dbJob is a database-scoped job taken from the stream, not yet settled.
type dbJob struct {
	msg  jetstream.Msg
	md   *jetstream.MsgMetadata
	job  bus.Job
	conn catalog.Connection
	p    probes.Probe
	pc   catalog.ProbeConfig
	log  *slog.Logger // names the connection, probe and slot
}

// bursts holds the database-scoped jobs of the connections whose burst is
// being run on this fetcher. The scheduler gives the database probes of a
// connection one phase, so they arrive together; one worker runs them all,
// database by database, each database on its one session, while the other
// workers go on pulling jobs instead of queueing for those sessions.
type bursts struct {
	mu     sync.Mutex
	queued map[int64][]*dbJob // a key is present while a worker runs that connection's burst
}

func newBursts() *bursts { return &bursts{queued: map[int64][]*dbJob{}} }

// join queues j for the worker running its connection's burst and reports
// true, or reports false when there is none: the caller runs it then.
func (b *bursts) join(j *dbJob) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	q, running := b.queued[j.job.ConnectionID]
	if running {
		b.queued[j.job.ConnectionID] = append(q, j)
		return true
	}
	b.queued[j.job.ConnectionID] = nil
	return false
}

// next hands the runner of conn the jobs that joined since it last
// looked, or ends the burst when there are none.
func (b *bursts) next(conn int64) []*dbJob {
	b.mu.Lock()
	defer b.mu.Unlock()
	q := b.queued[conn]
	if len(q) == 0 {
		delete(b.queued, conn)
		return nil
	}
	b.queued[conn] = nil
	return q
}

// waiting returns the jobs queued for the burst of conn that its runner
// has not taken yet.
func (b *bursts) waiting(conn int64) []*dbJob {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.queued[conn])
}

// runBurst runs j and every job of its connection that joins meanwhile,
// then settles each.
func (f *Fetcher) runBurst(ctx context.Context, j *dbJob) {
	if f.bursts.join(j) {
		return
	}
	for jobs := []*dbJob{j}; jobs != nil; jobs = f.bursts.next(j.job.ConnectionID) {
		errs := f.runDatabases(ctx, jobs)
		for i, d := range jobs {
			f.settle(ctx, d.msg, d.md, errs[i], d.log.With("database", "*"))
		}
	}
}

// runDatabases runs database-scoped jobs of one connection on each of its
// databases, database by database, and publishes the batches. Probe
// errors become status batches; only publish errors are returned, one per
// job.
func (f *Fetcher) runDatabases(ctx context.Context, jobs []*dbJob) []error {
	errs := make([]error, len(jobs))
	conn := jobs[0].conn
	dbs, err := f.databases(ctx, conn)
	if err != nil {
		for i, d := range jobs {
			errs[i] = f.listFailed(ctx, d, err)
		}
		return errs
	}
	done := make([]bool, len(jobs))
	for _, d := range jobs {
		f.probeSucceeded(availKey{conn.ID, "*", d.p.Name}, d.log.With("database", conn.Database))
	}
	for _, db := range dbs {
		for i, d := range jobs {
			if done[i] {
				continue
			}
			if err := f.runOn(ctx, d.job, d.conn, d.p, d.pc, db, d.log.With("database", db)); err != nil {
				errs[i], done[i] = err, true
				continue
			}
			if d.p.ClusterWide && f.avail.available(conn.ID, db, d.p.Name) {
				// The source shows the whole cluster: one database is enough.
				done[i] = true
			}
		}
		// Every job of the burst not yet settled, those that joined it
		// and wait for the next round included, is still being worked
		// on: a burst longer than the consumer's AckWait must not see
		// them handed to another fetcher.
		for i, d := range jobs {
			if !done[i] {
				_ = d.msg.InProgress()
			}
		}
		for _, d := range f.bursts.waiting(conn.ID) {
			_ = d.msg.InProgress()
		}
	}
	return errs
}

// listFailed records that the databases of d's server could not be listed.
func (f *Fetcher) listFailed(ctx context.Context, d *dbJob, err error) error {
	log := d.log.With("database", d.conn.Database)
	f.obs.ProbeRun(d.p.Name, ResultError, 0, 0)
	if f.acquireFailed(d.conn, err, log) {
		return f.publishConnectionError(ctx, d.job, d.conn, d.p, "", f.now().UTC(), err)
	}
	f.probeFailed(availKey{d.conn.ID, "*", d.p.Name}, fmt.Errorf("list databases: %w", err), log)
	return f.publishStatus(ctx, d.job, d.conn, d.p, "", false, err.Error())
}
