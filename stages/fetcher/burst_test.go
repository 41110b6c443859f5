package fetcher

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/bus"
)

func TestBurstJoinAndNext(t *testing.T) {
	b := newBursts()
	first := &dbJob{job: bus.Job{ConnectionID: 1, Probe: "a"}}
	require.False(t, b.join(first), "the first job of a connection runs its burst")
	second := &dbJob{job: bus.Job{ConnectionID: 1, Probe: "b"}}
	require.True(t, b.join(second), "a job arriving during the burst joins it")
	require.False(t, b.join(&dbJob{job: bus.Job{ConnectionID: 2, Probe: "a"}}), "another connection has a burst of its own")
	third := &dbJob{job: bus.Job{ConnectionID: 1, Probe: "c"}}
	require.True(t, b.join(third))
	require.Equal(t, []*dbJob{second, third}, b.waiting(1), "the jobs waiting for the next round (kept in progress)")
	require.Empty(t, b.waiting(3))
	require.Equal(t, []*dbJob{second, third}, b.next(1))
	require.Empty(t, b.waiting(1), "taken by the runner")
	require.Nil(t, b.next(1), "nothing joined: the burst ends")
	require.False(t, b.join(first), "after the burst ended, the next job starts a new one")
}

func TestEveryJobOfABurstRunsOnce(t *testing.T) {
	b := newBursts()
	var ran sync.Map
	var runs atomic.Int64
	run := func(j *dbJob) {
		_, dup := ran.LoadOrStore(j, true)
		require.False(t, dup)
		runs.Add(1)
	}
	var wg sync.WaitGroup
	const jobs = 2000
	for i := range jobs {
		wg.Go(func() {
			j := &dbJob{job: bus.Job{ConnectionID: int64(i % 7), Slot: int64(i)}}
			if b.join(j) {
				return
			}
			for batch := []*dbJob{j}; batch != nil; batch = b.next(j.job.ConnectionID) {
				for _, d := range batch {
					run(d)
				}
			}
		})
	}
	wg.Wait()
	require.Equal(t, int64(jobs), runs.Load(), "a job that joined a burst as it ended was lost")
	require.Empty(t, b.queued)
}
