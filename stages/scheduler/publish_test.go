package scheduler

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/bus"
	"github.com/pgcollector/pgcollector/internal/catalog"
)

// fakeSource is a configuration whose Version the test bumps by hand.
type fakeSource struct {
	conns   []catalog.Connection
	probes  map[string]catalog.ProbeConfig
	version uint64
	walks   int // calls of Connections: how often the scheduler re-read the configuration
}

func (f *fakeSource) Connections() []catalog.Connection      { f.walks++; return f.conns }
func (f *fakeSource) Probes() map[string]catalog.ProbeConfig { return f.probes }
func (f *fakeSource) Ready() <-chan struct{}                 { return nil }
func (f *fakeSource) Version() uint64                        { return f.version }

// fakePublisher records jobs and fails while fail is set. Jobs are
// numbered in publishing order from seq+1 (seq: jobs an earlier run left);
// the fetchers have been handed all of them unless stuck is set, then
// those up to delivered.
type fakePublisher struct {
	jobs       []bus.Job
	fail       bool
	seq        uint64
	stuck      bool
	delivered  uint64
	queueError error // JobsDelivered and JobsLast fail
	lastAsked  int   // calls of JobsLast
}

func (p *fakePublisher) PublishJobSeq(_ context.Context, j bus.Job) (uint64, error) {
	if p.fail {
		return 0, errors.New("nats: no responders available for request")
	}
	p.jobs = append(p.jobs, j)
	p.seq++
	return p.seq, nil
}

func (p *fakePublisher) JobsLast(context.Context) (uint64, error) {
	p.lastAsked++
	if p.queueError != nil {
		return 0, p.queueError
	}
	return p.seq, nil
}

func (p *fakePublisher) JobsDelivered(context.Context) (uint64, error) {
	switch {
	case p.queueError != nil:
		return 0, p.queueError
	case p.stuck:
		return p.delivered, nil
	}
	return p.seq, nil
}

// clock gives s a time of its own, starting at noon, and run, which ticks
// s once a second for d.
func clock(ctx context.Context, s *Scheduler) (now *time.Time, run func(d time.Duration)) {
	t := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return t }
	return &t, func(d time.Duration) {
		for end := t.Add(d); t.Before(end); t = t.Add(time.Second) {
			s.publishDue(ctx)
		}
	}
}

func TestPublishDueFollowsTheConfigurationAndRetries(t *testing.T) {
	src := &fakeSource{
		conns:  []catalog.Connection{{ID: 1, Name: "a"}},
		probes: map[string]catalog.ProbeConfig{"pg_connectivity": {Name: "pg_connectivity", Enabled: true, IntervalSeconds: 30}},
	}
	pub := &fakePublisher{}
	s, err := New(Config{Tick: time.Second}, src, pub, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	ctx := context.Background()
	now, run := clock(ctx, s)

	run(2 * time.Minute)
	require.Len(t, pub.jobs, 5, "the slot in progress at start, then one job per 30 s slot")
	require.Equal(t, 1, src.walks, "the configuration is read again only when its version changes")

	// A new connection appears with the next version.
	src.conns = append(src.conns, catalog.Connection{ID: 2, Name: "b"})
	src.version++
	pub.jobs = nil
	run(2 * time.Minute)
	require.Equal(t, 2, src.walks)
	per := map[int64]int{}
	for _, j := range pub.jobs {
		per[j.ConnectionID]++
	}
	require.Equal(t, 4, per[1])
	require.GreaterOrEqual(t, per[2], 4, "the new connection is scheduled without a restart")

	// The bus refuses for 45 s: the slot in progress is published late,
	// once, when it comes back, and nothing before it is replayed.
	pub.jobs, pub.fail = nil, true
	run(45 * time.Second)
	require.Empty(t, pub.jobs)
	pub.fail = false
	s.publishDue(ctx)
	seen := map[string]bool{}
	for _, j := range pub.jobs {
		id := bus.JobID(j)
		require.False(t, seen[id], "job %s published twice", id)
		seen[id] = true
		_, start := SlotAt(*now, j.ConnectionID, j.Probe, j.IntervalSeconds)
		require.Equal(t, start, j.ScheduledAt, "a late job is the slot current when publishing resumed")
	}
	require.Len(t, pub.jobs, 2, "each connection's current slot, once")
}

// countingObserver counts skipped slots by probe.
type countingObserver map[string]int

func (o countingObserver) SlotSkipped(probe string) { o[probe]++ }

// While the fetchers have not been handed a pair's job, the pair's next
// slots are skipped instead of queued behind it; the job after that is
// marked Sole. When the queue cannot be read, jobs go out as before.
func TestPublishDueKeepsOneJobPerPairQueued(t *testing.T) {
	src := &fakeSource{
		conns:  []catalog.Connection{{ID: 1, Name: "a"}},
		probes: map[string]catalog.ProbeConfig{"pg_connectivity": {Name: "pg_connectivity", Enabled: true, IntervalSeconds: 30}},
	}
	pub := &fakePublisher{}
	var logs bytes.Buffer
	s, err := New(Config{Tick: time.Second}, src, pub, slog.New(slog.NewTextHandler(&logs, nil)))
	require.NoError(t, err)
	skipped := countingObserver{}
	s.SetObserver(skipped)
	_, run := clock(context.Background(), s)

	run(time.Minute)
	require.Len(t, pub.jobs, 3, "the slot in progress at start, then two 30 s slots")
	require.True(t, pub.jobs[0].Sole, "the first job: the queue held nothing at start")
	require.True(t, pub.jobs[1].Sole, "the previous job was handed out")
	require.True(t, pub.jobs[2].Sole)

	// The fetchers stop taking jobs: the one waiting stays the only one.
	pub.stuck, pub.delivered = true, pub.seq-1
	pub.jobs = nil
	run(3 * time.Minute)
	require.Empty(t, pub.jobs, "no job queued behind the waiting one")
	require.Equal(t, 6, skipped["pg_connectivity"], "one skipped slot per 30 s")
	require.Contains(t, logs.String(), "fetchers are behind")
	require.Contains(t, logs.String(), "skipped=")

	// The fetchers take jobs again: the next slot gets its job, and
	// skipping stops.
	pub.stuck = false
	run(30 * time.Second)
	require.Len(t, pub.jobs, 1)
	require.True(t, pub.jobs[0].Sole)
	run(2 * time.Minute)
	require.Contains(t, logs.String(), "fetchers caught up")

	// The queue cannot be read: publish as before, not marked Sole.
	pub.queueError = errors.New("nats: timeout")
	pub.jobs = nil
	run(time.Minute)
	require.Len(t, pub.jobs, 2)
	for _, j := range pub.jobs {
		require.False(t, j.Sole)
	}
}

// A pair's first job after a start is Sole once whatever an earlier run
// left in the queue has been handed out: until then it may have a job
// there, so its first job goes out unmarked (and is not skipped, since it
// may have none).
func TestPublishDueFirstJobAfterARestart(t *testing.T) {
	src := &fakeSource{
		conns: []catalog.Connection{{ID: 1, Name: "a"}},
		probes: map[string]catalog.ProbeConfig{
			"pg_connectivity":  {Name: "pg_connectivity", Enabled: true, IntervalSeconds: 30},
			"pg_stat_activity": {Name: "pg_stat_activity", Enabled: true, IntervalSeconds: 60},
		},
	}
	// An earlier run left five jobs; the fetchers were handed three.
	pub := &fakePublisher{seq: 5, stuck: true, delivered: 3}
	s, err := New(Config{Tick: time.Second}, src, pub, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	_, run := clock(context.Background(), s)

	run(time.Minute)
	require.Len(t, pub.jobs, 2, "each pair gets its first job, then waits for it")
	for _, j := range pub.jobs {
		require.False(t, j.Sole, "%s: an earlier job of the pair may still wait", j.Probe)
	}
	require.Equal(t, 1, pub.lastAsked, "the queue's end is read once")

	// The old jobs are handed out; a connection added now gets Sole jobs
	// from the first.
	pub.stuck, pub.jobs = false, nil
	src.conns = append(src.conns, catalog.Connection{ID: 2, Name: "b"})
	src.version++
	run(time.Minute)
	var added int
	for _, j := range pub.jobs {
		require.True(t, j.Sole, "%s of connection %d", j.Probe, j.ConnectionID)
		if j.ConnectionID == 2 {
			added++
		}
	}
	require.GreaterOrEqual(t, added, 2, "the new connection's jobs")
	require.Equal(t, 1, pub.lastAsked)

	// When the queue's end cannot be read, first jobs go out unmarked.
	pub2 := &fakePublisher{queueError: errors.New("nats: timeout")}
	s2, err := New(Config{Tick: time.Second}, src, pub2, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	_, run2 := clock(context.Background(), s2)
	run2(time.Minute)
	require.GreaterOrEqual(t, len(pub2.jobs), 4)
	for _, j := range pub2.jobs {
		require.False(t, j.Sole)
	}
}
