package scheduler

import (
	"context"
	"log/slog"
	"time"

	"github.com/pgcollector/pgcollector/bus"
)

// When the fetchers fall behind, the job queue would grow without end and
// serve every pair in the order its jobs were published: the jobs of
// 30-second probes would wait behind minutes of slower ones and be stale
// by the time they came up, so under overload the most frequent probes,
// pg_connectivity first, would get no sample at all. Instead a pair has
// at most one job waiting: while its previous job has not been handed to
// a fetcher, its next slots are skipped (counted and logged), and the
// waiting job, marked Sole, is run when it comes up however late. Every
// pair is then served in turn at the rate the fetchers manage, the queue
// stays one job per pair, and the fetchers never spend time on jobs a
// newer one has superseded.

// queue asks the bus at most once per tick how far the fetchers have got.
type queue struct {
	asked     bool
	delivered uint64
	err       error
	askedLast bool
}

// predecessor returns the queue sequence of the pair's previous job, or a
// bound on it, and whether it is that job's own (exact). A pair without a
// job from this run may still have one an earlier run left waiting: its
// bound is the queue's last sequence when this run first read it, so a
// pair's first job is Sole too once everything queued before the start
// has been handed out (at once on a fresh start). found is false when
// neither can be told; the last sequence is asked at most once per tick
// until it is known.
func (s *Scheduler) predecessor(ctx context.Context, q *queue, e *entry) (seq uint64, exact, found bool) {
	if e.seq > 0 {
		return e.seq, true, true
	}
	if !s.priorKnown && !q.askedLast {
		q.askedLast = true
		if last, err := s.pub.JobsLast(ctx); err == nil {
			s.prior, s.priorKnown = last, true
		}
	}
	return s.prior, false, s.priorKnown
}

// holds reports whether the job with sequence seq is still waiting to be
// handed to a fetcher, and whether that could be told at all: when the
// bus cannot say, nothing is skipped and jobs go out as before.
func (q *queue) holds(ctx context.Context, pub Publisher, seq uint64) (queued, known bool) {
	if !q.asked {
		q.delivered, q.err = pub.JobsDelivered(ctx)
		q.asked = true
	}
	if q.err != nil {
		return false, false
	}
	return seq > q.delivered, true
}

// skip records a slot left without a job.
func (s *Scheduler) skip(j bus.Job, now time.Time) {
	s.obs.SlotSkipped(j.Probe)
	s.behind.count(s.log, now)
}

// behindReportEvery spaces the log lines about skipped slots.
const behindReportEvery = time.Minute

// behind keeps skipped slots to a few log lines: one when skipping starts,
// a count every minute while it goes on, one when it stops.
type behind struct {
	skipping bool
	since    time.Time // of the current report period
	n        int       // skipped in it
}

func (b *behind) count(log *slog.Logger, now time.Time) {
	b.n++
	if !b.skipping {
		b.skipping, b.since = true, now
		log.Warn("fetchers are behind: slots of a connection and probe whose previous job still waits are skipped " +
			"until it has run (add fetchers or workers, or lengthen intervals)")
	}
}

// report ends a tick: once a minute while slots are being skipped it
// logs how many were, or that none were and the fetchers caught up.
func (b *behind) report(log *slog.Logger, now time.Time) {
	if !b.skipping || now.Sub(b.since) < behindReportEvery {
		return
	}
	if b.n == 0 {
		b.skipping = false
		log.Info("fetchers caught up: no slot skipped for a minute")
	} else {
		log.Warn("fetchers are behind: slots skipped", "skipped", b.n, "in", now.Sub(b.since).Round(time.Second))
	}
	b.since, b.n = now, 0
}
