package sink

import "sync"

// stateCache keeps committed chain states in memory within a byte budget
// (PGC_SINK_DEDUP_CACHE_BYTES). A write takes its states out (checkout)
// and puts them back once it committed (checkin); a state that is not
// there is read from dedup_state. Over the budget, checkin evicts states
// in the map's iteration order, which Go randomises: with more chains
// than fit, every chain has the same chance of staying, and no
// bookkeeping per access is needed.
//
// Chains are written in turn, each once per interval, and under that
// pattern random eviction finds ~70 % of the chains when their states are
// 1.2 times the budget, ~40 % at 1.5, ~20 % at 2 and under 1 % at 3
// (TestStateCachePausesWhenItDoesNotHelp); at 1,000 servers of the bench
// shape, 40 times the default budget, it found 0 %. Such a cache is only heap the garbage
// collector has to work around, so the cache measures itself: over each
// period in which states of pausePeriodFactor times the budget were
// checked in, it counts the chains whose cached state the write could use
// and those it had to read from dedup_state, as the lock judged them (the
// pgcollector_sink_dedup_cache_*_total counters: with several sinks a
// state checked out may be older than the committed one, and then it is
// a miss). When it had
// to evict and found fewer than minHitPercent of them, it drops every
// state and keeps none while pausePeriods more periods' worth of states go
// by, then tries again from empty. A fleet whose states fit never evicts
// and is never paused, and one up to about twice the budget, warm after
// its first cycle, finds more than that within a period.
type stateCache struct {
	budget int64

	mu     sync.Mutex
	states map[stateKey]*runState
	used   int64 // sum of cost over states

	// The current period: bytes checked in, the chains the writes looked
	// up in dedup_state and how many of them the cache held, whether
	// checkin evicted; pausedFor counts down the periods left to pause.
	offered, lookups, found int64
	evicted                 bool
	pausedFor               int
}

const (
	pausePeriodFactor = 8  // a period is this many budgets of states checked in
	minHitPercent     = 10 // below this, a cache that evicts pauses
	pausePeriods      = 16 // how long a pause lasts, in periods
)

func newStateCache(budget int64) *stateCache {
	return &stateCache{budget: budget, states: map[stateKey]*runState{}}
}

// checkout takes the cached state of k, if any, out of the cache.
func (c *stateCache) checkout(k stateKey) *runState {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.states[k]
	if st != nil {
		delete(c.states, k)
		c.used -= st.cost
	}
	return st
}

// endPeriod judges a period once enough states went by, and starts the
// next one.
func (c *stateCache) endPeriod() {
	if c.offered < pausePeriodFactor*c.budget {
		return
	}
	switch {
	case c.pausedFor > 0:
		c.pausedFor--
	case c.evicted && c.found*100 < c.lookups*minHitPercent:
		c.pausedFor = pausePeriods
		c.states, c.used = map[stateKey]*runState{}, 0
	}
	c.offered, c.lookups, c.found, c.evicted = 0, 0, 0, false
}

// checkin puts committed states back, evicting others while the cache is
// over its budget. A state larger than the whole budget is not kept. hits
// and misses are the write's count of chains whose cached state was the
// committed one and of those read from dedup_state.
func (c *stateCache) checkin(states map[stateKey]*runState, hits, misses int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.found += hits
	c.lookups += hits + misses
	for k, st := range states {
		if st == nil || st.at.IsZero() {
			continue
		}
		if old := c.states[k]; old != nil {
			// Another write of the same chain checked in first. Either
			// may be the older: a cached state is used only when its
			// collected_at is the row's (dedupReadSQL), so an older one
			// costs a read, never a wrong delta.
			c.used -= old.cost
			delete(c.states, k)
		}
		st.cost = st.size()
		c.offered += st.cost
		if st.cost > c.budget || c.pausedFor > 0 {
			continue
		}
		c.states[k] = st
		c.used += st.cost
		for other, o := range c.states {
			if c.used <= c.budget {
				break
			}
			if other != k {
				delete(c.states, other)
				c.used -= o.cost
				c.evicted = true
			}
		}
	}
	c.endPeriod()
}

// size returns the bytes the cache holds, its number of states and
// whether it is paused.
func (c *stateCache) size() (bytes, states int64, paused bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.used, int64(len(c.states)), c.pausedFor > 0
}
