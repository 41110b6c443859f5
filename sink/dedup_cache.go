package sink

import "sync"

// stateCache keeps committed chain states in memory within a byte budget
// (PGC_SINK_DEDUP_CACHE_BYTES). A write takes its states out (checkout)
// and puts them back once it committed (checkin); a state that is not
// there is read from dedup_state. Over the budget, checkin evicts states
// in the map's iteration order, which Go randomises: with more chains
// than fit, every chain has the same chance of staying, and no
// bookkeeping per access is needed.
type stateCache struct {
	budget int64

	mu     sync.Mutex
	states map[stateKey]*runState
	used   int64 // sum of cost over states
}

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

// checkin puts committed states back, evicting others while the cache is
// over its budget. A state larger than the whole budget is not kept.
func (c *stateCache) checkin(states map[stateKey]*runState) {
	c.mu.Lock()
	defer c.mu.Unlock()
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
		if st.cost > c.budget {
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
			}
		}
	}
}

// size returns the bytes the cache holds and its number of states.
func (c *stateCache) size() (bytes, states int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.used, int64(len(c.states))
}
