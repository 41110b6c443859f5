package scheduler

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/bus"
	"github.com/pgcollector/pgcollector/internal/catalog"
	"github.com/pgcollector/pgcollector/internal/config"
)

// restartFleet is a small fleet of 5-minute and 30-second pairs.
func restartFleet() *fakeSource {
	src := &fakeSource{probes: map[string]catalog.ProbeConfig{
		"pg_stat_all_tables": {Name: "pg_stat_all_tables", Enabled: true, IntervalSeconds: 300},
		"pg_database":        {Name: "pg_database", Enabled: true, IntervalSeconds: 300},
		"pg_connectivity":    {Name: "pg_connectivity", Enabled: true, IntervalSeconds: 30},
	}}
	for id := int64(1); id <= 20; id++ {
		src.conns = append(src.conns, catalog.Connection{ID: id, Name: "c"})
	}
	return src
}

// drainJobs takes every waiting job off PGC_JOBS through the fetchers'
// consumer and acknowledges it, as fetchers that ran them would, and
// returns them.
func drainJobs(t *testing.T, ctx context.Context, b *bus.Bus) []bus.Job {
	t.Helper()
	cons, err := b.Jobs(ctx)
	require.NoError(t, err)
	var jobs []bus.Job
	for {
		batch, err := cons.Fetch(500, jetstream.FetchMaxWait(300*time.Millisecond))
		require.NoError(t, err)
		n := 0
		for m := range batch.Messages() {
			j, err := bus.DecodeJob(m.Data(), m.Headers())
			require.NoError(t, err)
			jobs = append(jobs, j)
			require.NoError(t, m.Ack())
			n++
		}
		if n == 0 {
			return jobs
		}
	}
}

func openTestBus(t *testing.T, ctx context.Context, dir string) *bus.Bus {
	t.Helper()
	cfg := config.Default[bus.Config]()
	cfg.DataDir = dir
	cfg.BufferMaxBytes = 64 * bus.MiB
	b, err := bus.Open(ctx, cfg, testLog())
	require.NoError(t, err)
	return b
}

// A restart of the whole process (the embedded server with it) does not
// run the slots in progress again: JetStream forgot the ids of the jobs
// that were run and acknowledged, and the checkpoint in PGC_SCHEDULE is
// what tells the new scheduler they were published. Without it (the
// control) pairs get their slot in progress a second time.
func TestRestartDoesNotRepublishSlotsInProgress(t *testing.T) {
	for _, checkpoint := range []bool{true, false} {
		t.Run(map[bool]string{true: "checkpoint", false: "control without"}[checkpoint], func(t *testing.T) {
			ctx := testCtx(t)
			dir := t.TempDir()
			src := restartFleet()
			pub := func(b *bus.Bus) Publisher {
				if checkpoint {
					return b
				}
				return plainPublisher{b}
			}

			b := openTestBus(t, ctx, dir)
			s1, err := New(Config{Tick: time.Second}, src, pub(b), testLog())
			require.NoError(t, err)
			now, run := clock(ctx, s1)
			s1.loadCheckpoint(ctx)
			var first []bus.Job
			for range 24 { // every pair catches up its first slot, and the fetchers keep up
				run(15 * time.Second)
				first = append(first, drainJobs(t, ctx, b)...)
			}
			require.GreaterOrEqual(t, len(first), 40, "each 5-minute pair had at least one job")
			s1.checkpoint(ctx, true) // what Run does when it stops
			b.Close()

			// The process starts again a few seconds later.
			at := now.Add(2 * time.Second)
			served := map[key]int64{}
			for _, j := range first {
				if slot, _ := SlotAt(at, j.ConnectionID, j.Probe, j.IntervalSeconds); j.Slot == slot {
					served[key{j.ConnectionID, j.Probe}] = slot
				}
			}
			require.NotEmpty(t, served)

			b = openTestBus(t, ctx, dir)
			t.Cleanup(b.Close)
			s2, err := New(Config{Tick: time.Second}, src, pub(b), testLog())
			require.NoError(t, err)
			now2, run2 := clock(ctx, s2)
			*now2 = at
			s2.loadCheckpoint(ctx)
			var later []bus.Job
			for range 24 { // past every slot in progress
				run2(15 * time.Second)
				later = append(later, drainJobs(t, ctx, b)...)
			}
			again, next := 0, map[key]bool{}
			for _, j := range later {
				k := key{j.ConnectionID, j.Probe}
				slot, ok := served[k]
				switch {
				case !ok:
				case j.Slot == slot:
					again++
				case j.Slot > slot:
					next[k] = true
				}
			}
			if !checkpoint {
				require.Positive(t, again, "without a checkpoint, slots already run are published again")
				return
			}
			require.Zero(t, again, "slots in progress that ran before the restart")
			for k := range served {
				require.True(t, next[k], "%v gets its next slot", k)
			}
		})
	}
}

// plainPublisher is the bus without its checkpoint methods.
type plainPublisher struct{ b *bus.Bus }

func (p plainPublisher) PublishJobSeq(ctx context.Context, j bus.Job) (uint64, error) {
	return p.b.PublishJobSeq(ctx, j)
}
func (p plainPublisher) JobsDelivered(ctx context.Context) (uint64, error) {
	return p.b.JobsDelivered(ctx)
}
func (p plainPublisher) JobsLast(ctx context.Context) (uint64, error) { return p.b.JobsLast(ctx) }

// A pair whose interval changed while the scheduler was down does not
// adopt a slot numbered by the old interval, and neither does a slot that
// has ended.
func TestAdoptOnlyTheSlotInProgress(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	e := &entry{key: key{1, "pg_database"}, interval: 300}
	e.off = Offset(1, "pg_database", 300)
	slot, start := slotOf(now, e.off, 300)
	p := newPlan()
	for _, tc := range []struct {
		m    mark
		want bool
	}{
		{mark{300, slot}, true},
		{mark{300, slot - 1}, false},
		{mark{600, slot}, false},
	} {
		p.resume = map[key]mark{e.key: tc.m}
		got := *e
		require.Equal(t, tc.want, p.adopt(&got, now), "%+v", tc.m)
		if tc.want {
			require.True(t, got.sent)
			require.Equal(t, start.Unix()+300, got.next)
			require.Equal(t, last{300, slot, start}, got.last)
		}
	}
}
