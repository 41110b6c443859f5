package fleetsim

import (
	"context"
	"sync"
	"time"
)

// recordKey names one recording: the cluster, the session's startup
// parameters and the request's bytes.
type recordKey struct {
	pool    poolKey
	request string
}

// entry is one recording; its mutex makes concurrent first requests wait
// for the one forward instead of each sending its own.
type entry struct {
	mu    sync.Mutex
	first *reply // the first recording, until the second one is taken
	cur   *reply
	final bool
}

// recorder holds every recording and the upstream sessions they come from.
type recorder struct {
	cfg     Config
	stats   *Stats
	mu      sync.Mutex
	entries map[recordKey]*entry
	pools   map[poolKey]*upstreamPool
}

func newRecorder(cfg Config, st *Stats) *recorder {
	return &recorder{cfg: cfg, stats: st, entries: map[recordKey]*entry{}, pools: map[poolKey]*upstreamPool{}}
}

func (r *recorder) pool(k poolKey) *upstreamPool {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.pools[k]
	if p == nil {
		p = newUpstreamPool(r.cfg.Upstreams[k.upstream], k, r.stats)
		r.pools[k] = p
	}
	return p
}

// answer returns the reply to request: recorded now from the upstream when
// it is the first one or the one that finds the counters, else replayed.
func (r *recorder) answer(ctx context.Context, k poolKey, request []byte) (*reply, error) {
	rk := recordKey{k, string(request)}
	r.mu.Lock()
	e := r.entries[rk]
	if e == nil {
		e = &entry{}
		r.entries[rk] = e
	}
	r.mu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	switch {
	case e.cur == nil:
		rep, err := r.pool(k).forward(ctx, request)
		if err != nil {
			return nil, err
		}
		e.first, e.cur = rep, rep
		r.stats.Recorded.Add(1)
	case !e.final && time.Since(e.first.at) >= r.cfg.RecheckAfter:
		rep, err := r.pool(k).forward(ctx, request)
		if err != nil {
			return nil, err
		}
		e.cur, e.first, e.final = withCounters(e.first, rep), nil, true
		r.stats.Recorded.Add(1)
	default:
		r.stats.Replayed.Add(1)
	}
	return e.cur, nil
}
