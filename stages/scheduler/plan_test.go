package scheduler

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/bus"
	"github.com/pgcollector/pgcollector/internal/catalog"
)

// drive runs the plan the way publishDue does, one tick per second from
// `from` for n seconds, and returns the jobs in publishing order.
// refuse, when set, makes publishing fail at the seconds it names.
func drive(p *plan, from time.Time, n int, refuse map[int]bool) []bus.Job {
	var out []bus.Job
	for i := range n {
		now := from.Add(time.Duration(i) * time.Second)
		for e := p.due(now); e != nil; e = p.due(now) {
			j, ok := e.job(now)
			if ok && refuse[i] {
				break
			}
			if ok {
				out = append(out, j)
			}
			p.done(e, now, ok)
		}
	}
	return out
}

func fleet(n int) []catalog.Connection {
	out := make([]catalog.Connection, n)
	for i := range out {
		out[i] = catalog.Connection{ID: int64(i + 1), Name: fmt.Sprintf("srv%d", i+1)}
	}
	return out
}

func probeSet(intervals map[string]int) (map[string]catalog.ProbeConfig, map[string]bool) {
	cfgs, known := map[string]catalog.ProbeConfig{}, map[string]bool{}
	for name, iv := range intervals {
		cfgs[name] = catalog.ProbeConfig{Name: name, Enabled: true, IntervalSeconds: iv}
		known[name] = true
	}
	return cfgs, known
}

func TestPlanPublishesEverySlotOnce(t *testing.T) {
	start := time.Date(2026, 11, 25, 12, 0, 7, 0, time.UTC)
	cfgs, known := probeSet(map[string]int{"a": 5, "b": 30, "c": 60})
	p := newPlan()
	p.sync(fleet(40), cfgs, known, start)
	jobs := drive(p, start, 600, nil)

	seen := map[string]bool{}
	slots := map[key][]int64{}
	for _, j := range jobs {
		id := fmt.Sprintf("%d/%s/%d", j.ConnectionID, j.Probe, j.Slot)
		require.False(t, seen[id], "job %s published twice", id)
		seen[id] = true
		k := key{j.ConnectionID, j.Probe}
		slots[k] = append(slots[k], j.Slot)
		wantSlot, wantStart := SlotAt(j.ScheduledAt, j.ConnectionID, j.Probe, j.IntervalSeconds)
		require.Equal(t, wantSlot, j.Slot)
		require.Equal(t, wantStart, j.ScheduledAt)
	}
	require.Len(t, slots, 120, "every pair is scheduled")
	for k, s := range slots {
		for i := 1; i < len(s); i++ {
			require.Equal(t, s[i-1]+1, s[i], "%v skipped a slot", k)
		}
		iv := cfgs[k.probe].IntervalSeconds
		require.InDelta(t, 600/iv, len(s), 1, "%v", k)
	}
}

func TestPlanSpreadsTheFirstBurstOverServers(t *testing.T) {
	start := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	names := map[string]int{}
	for i := range 34 {
		names[fmt.Sprintf("probe%02d", i)] = 300
	}
	cfgs, known := probeSet(names)
	p := newPlan()
	p.sync(fleet(100), cfgs, known, start)
	perSecond := map[int]int{}
	var jobs []bus.Job
	for i := range 301 {
		got := drive(p, start.Add(time.Duration(i)*time.Second), 1, nil)
		perSecond[i] = len(got)
		jobs = append(jobs, got...)
	}
	caught := map[key]bool{}
	for _, j := range jobs {
		if slot, _ := SlotAt(start, j.ConnectionID, j.Probe, 300); slot == j.Slot {
			caught[key{j.ConnectionID, j.Probe}] = true
		}
	}
	require.Equal(t, 3400, len(caught), "every pair's current slot is caught up within the slot")
	for i, n := range perSecond {
		require.LessOrEqual(t, n, 150, "second %d: the catch-up is spread, not one burst", i)
	}
	// Any 16 consecutive jobs (a fetcher's workers) touch many servers, not
	// one server's probes in a row.
	for i := 0; i+16 <= len(jobs); i += 16 {
		servers := map[int64]bool{}
		for _, j := range jobs[i : i+16] {
			servers[j.ConnectionID] = true
		}
		require.GreaterOrEqual(t, len(servers), 10, "jobs %d..%d", i, i+15)
	}
}

// firstJob drives the plan until its first job and returns it with the
// second it went out.
func firstJob(t *testing.T, p *plan, start time.Time) (bus.Job, time.Time) {
	t.Helper()
	for i := range 3600 {
		at := start.Add(time.Duration(i) * time.Second)
		if jobs := drive(p, at, 1, nil); len(jobs) > 0 {
			require.Len(t, jobs, 1)
			return jobs[0], at
		}
	}
	t.Fatal("no job within an hour")
	return bus.Job{}, time.Time{}
}

func TestPlanIntervalChangeAppliesFromTheNextSlot(t *testing.T) {
	start := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	cfgs, known := probeSet(map[string]int{"a": 60})
	p := newPlan()
	conns := fleet(1)
	p.sync(conns, cfgs, known, start)
	first, sent := firstJob(t, p, start)

	// Ten seconds later the interval drops to 20 s: the job just taken
	// serves the current 20 s slot, the next one runs when it begins.
	at := sent.Add(10 * time.Second)
	cfgs, _ = probeSet(map[string]int{"a": 20})
	p.sync(conns, cfgs, known, at)
	jobs := drive(p, at, 60, nil)
	require.NotEmpty(t, jobs)
	for _, j := range jobs {
		require.Equal(t, 20, j.IntervalSeconds)
		require.True(t, j.ScheduledAt.After(first.ScheduledAt), "no second sample in the slot that was served")
		require.True(t, j.ScheduledAt.After(at), "the new interval starts with its next slot")
	}
	require.InDelta(t, 3, len(jobs), 1)
}

func TestPlanForgetsRemovedPairs(t *testing.T) {
	start := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	cfgs, known := probeSet(map[string]int{"a": 5, "b": 5})
	p := newPlan()
	p.sync(fleet(3), cfgs, known, start)
	drive(p, start, 10, nil)

	at := start.Add(10 * time.Second)
	disabled := map[string]catalog.ProbeConfig{"a": cfgs["a"], "b": {Name: "b", Enabled: false, IntervalSeconds: 5}}
	p.sync(fleet(2), disabled, known, at)
	for _, j := range drive(p, at, 30, nil) {
		require.Equal(t, "a", j.Probe, "disabled probe b still scheduled")
		require.NotEqual(t, int64(3), j.ConnectionID, "removed connection still scheduled")
	}
	require.Len(t, p.entries, 2)
	require.Len(t, p.queue, 2)
}

func TestPlanRetriesAfterAFailedPublish(t *testing.T) {
	start := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	cfgs, known := probeSet(map[string]int{"a": 60})
	p := newPlan()
	p.sync(fleet(1), cfgs, known, start)
	due := int(p.entries[key{1, "a"}].next - start.Unix())
	// Publishing fails for three seconds from when the job is due: the slot
	// goes out late, once, rather than being skipped.
	jobs := drive(p, start, due+4, map[int]bool{due: true, due + 1: true, due + 2: true})
	require.Equal(t, 1, len(jobs))
	slot, _ := SlotAt(start, 1, "a", 60)
	require.Equal(t, slot, jobs[0].Slot)
}

func BenchmarkPlanTick(b *testing.B) {
	start := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	intervals := map[string]int{}
	for i := range 34 {
		intervals[fmt.Sprintf("probe%02d", i)] = []int{30, 60, 300, 600, 3600}[i%5]
	}
	cfgs, known := probeSet(intervals)
	p := newPlan()
	p.sync(fleet(1000), cfgs, known, start)
	drive(p, start, 1800, nil) // the first slots, caught up
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		now := start.Add(time.Duration(1800+i) * time.Second)
		for e := p.due(now); e != nil; e = p.due(now) {
			_, ok := e.job(now)
			p.done(e, now, ok)
		}
	}
}

// At first sight the database probes of a connection catch their current
// slots up in one burst, the hourly one included: they share a phase, and
// an hourly slot begins on a boundary of the 5-minute ones, so every one of
// them waits for the rest of the same 5-minute slot.
func TestFirstSightCatchUpIsOneBurstPerConnection(t *testing.T) {
	for _, start := range []time.Time{
		time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC),
		time.Date(2026, 11, 25, 12, 17, 43, 0, time.UTC),
		time.Date(2026, 11, 25, 12, 58, 2, 0, time.UTC),
	} {
		cfgs, known := probeSet(map[string]int{"pg_stat_all_tables": 300, "pg_stat_statements": 300, "pg_extension": 3600})
		p := newPlan()
		p.sync(fleet(40), cfgs, known, start)
		first := map[int64]map[string]int{}
		for i := range 301 {
			for _, j := range drive(p, start.Add(time.Duration(i)*time.Second), 1, nil) {
				if first[j.ConnectionID] == nil {
					first[j.ConnectionID] = map[string]int{}
				}
				if _, seen := first[j.ConnectionID][j.Probe]; !seen {
					first[j.ConnectionID][j.Probe] = i
					slot, _ := SlotAt(start, j.ConnectionID, j.Probe, j.IntervalSeconds)
					require.Equal(t, slot, j.Slot, "the first job is for the slot under way at start")
				}
			}
		}
		require.Len(t, first, 40)
		for conn, at := range first {
			require.Len(t, at, 3, "connection %d", conn)
			require.Equal(t, at["pg_stat_all_tables"], at["pg_extension"], "connection %d from %s: %v", conn, start.Format("15:04:05"), at)
			require.Equal(t, at["pg_stat_all_tables"], at["pg_stat_statements"], "connection %d", conn)
		}
	}
}
