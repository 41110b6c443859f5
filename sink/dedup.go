package sink

import (
	"cmp"
	"slices"
	"time"

	"github.com/pgcollector/pgcollector/bus"
	"github.com/pgcollector/pgcollector/internal/bufpool"
	"github.com/pgcollector/pgcollector/internal/partition"
	"github.com/pgcollector/pgcollector/internal/store"
	"github.com/pgcollector/pgcollector/probes"
)

// Deduplication of keyed probes (docs/storage.md, docs/design.md "Stored
// form of per-object probes").
//
// Per (connection, database, probe) the runs the sink stores form chains:
// a keyframe (every row, marker 'k') and the delta runs after it (only the
// rows whose hash differs from the object's row in the chain's previous
// run, a tombstone for each object that run had and this one has not,
// marker 'd'). public.dedup_state holds the chain's last run: its time,
// its keyframe's time and every object's hash. A write reads that row FOR
// UPDATE, so the sinks sharing PGC_BATCHES extend each chain one at a time
// and always from what is committed; the new state is written in the same
// transaction as the rows. A run is added to the chain only when it is
// newer than the chain's last run; any other run (older, a redelivery that
// the ledger did not already stop, split in parts, with a repeated key, or
// of a connection without state) is stored in full without a marker, which
// the readers take as a complete run outside any chain. So the chain's
// deltas are always relative to exactly the run before them in the chain,
// whatever order batches arrive in, and a full run never needs the rows
// of another.
//
// The state row is cached in memory (dedup_cache.go), keyed by its
// collected_at: a cached entry is used only when the datastore's row has
// the same collected_at, which is true exactly when no other sink
// extended the chain since. Entries are taken out of the cache for the
// length of a write and put back only after it committed. A chain not in
// the cache is read from the datastore, so the cache's size changes what
// a write reads, never what it stores.

// deduper holds the cache and the settings; nil when dedup is off.
type deduper struct {
	fullEvery time.Duration
	keyed     map[string]probes.Probe
	cache     *stateCache
}

func newDeduper(cfg Config, catalogue []probes.Probe) *deduper {
	if !cfg.Dedup {
		return nil
	}
	d := &deduper{fullEvery: cfg.FullEvery, keyed: map[string]probes.Probe{}, cache: newStateCache(int64(cfg.DedupCacheBytes))}
	for _, p := range catalogue {
		if len(p.Key) > 0 {
			d.keyed[p.Name] = p
		}
	}
	return d
}

// dedupWork is what apply decided for one write.
type dedupWork struct {
	states  map[stateKey]*runState // checked out; nil value: no state row (connection gone)
	changed map[stateKey]bool      // states to write back
	extras  map[string]*extraRows  // markers and tombstones, by probe
	skipped int64                  // rows not stored: equal to their object's last stored row
	tombs   int64
	hits    int64 // chains whose state the cache held
	misses  int64 // chains whose state was read from dedup_state
}

// candidates returns the items of a plan that dedup may shorten, sorted by
// state key and collection time so that each chain advances in time order
// within one write.
func (d *deduper) candidates(p *plan) []*item {
	var out []*item
	for _, group := range p.groups {
		for _, it := range group {
			if _, ok := d.keyed[it.b.Probe]; ok && it.b.Kind == bus.KindRows {
				out = append(out, it)
			}
		}
	}
	slices.SortFunc(out, func(a, b *item) int {
		ka, kb := key(a.b), key(b.b)
		return cmp.Or(cmp.Compare(ka.conn, kb.conn), cmp.Compare(ka.db, kb.db), cmp.Compare(ka.probe, kb.probe),
			a.b.CollectedAt.Compare(b.b.CollectedAt), cmp.Compare(a.b.Part, b.b.Part))
	})
	return out
}

func key(b bus.Batch) stateKey { return stateKey{b.ConnectionID, b.Database, b.Probe} }

// decide handles one item against its chain's state: it leaves the item
// whole (a full run, no marker), or makes it a keyframe or a delta of the
// chain, setting it.data to the rows to store and adding the markers and
// tombstones to w.
func (d *deduper) decide(it *item, st *runState, w *dedupWork) {
	b := it.b
	t := at(b)
	// An empty run stores nothing, with dedup or without (and has no
	// partition ensured for it): the chain goes on from the run before.
	if st == nil || b.Parts > 1 || len(b.Data) == 0 || (!st.at.IsZero() && !t.After(st.at)) {
		return // stored in full, outside the chain
	}
	p := d.keyed[b.Probe]
	sc, err := newRowScanner(b.Columns, p.Key)
	if err != nil {
		return
	}
	keyframe := st.at.IsZero() || t.Sub(st.keyframeAt) >= d.fullEvery ||
		!weekOf(t).Equal(weekOf(st.keyframeAt))
	st.gen++
	gen := st.gen
	// out holds the rows a delta keeps, from its first left-out row on:
	// until then the rows kept are a prefix of b.Data, and a delta that
	// leaves none out is stored from b.Data without a copy. An owned item
	// is filtered in place: the rows kept move down over those left out
	// (wp is where the next one goes), so a flush holds its text once.
	var out []byte
	copying, inPlace := false, false
	wp := 0
	giveUp := func() {
		d.reset(st, w, key(b), out)
		if inPlace {
			// The run is stored in full after all: decode it again.
			if it.redecode() != nil {
				it.b.Data = nil // cannot happen: it decoded before
			}
		}
	}
	var skipped, seen int64
	for rest := b.Data; len(rest) > 0; {
		var row []byte
		rowStart := len(b.Data) - len(rest)
		row, rest = nextRow(rest)
		k, h, err := sc.scan(row)
		if err != nil {
			giveUp()
			return
		}
		o, collision := st.find(k)
		if collision || (o != nil && o.gen == gen) {
			// A repeated key, or two keys of one hash: the run cannot be
			// told apart per object.
			giveUp()
			return
		}
		seen++
		switch {
		case o == nil:
			st.add(k, h, gen)
		case st.hash(o) == h && !keyframe:
			o.gen = gen
			skipped++
			switch {
			case copying || inPlace:
			case it.owned():
				inPlace, wp = true, rowStart
			default:
				// Most rows of a delta are left out: start small, grow
				// in the pool.
				copying = true
				out = bufpool.Get(max(rowStart, 64<<10))
				out = append(out, b.Data[:rowStart]...)
			}
			continue
		default:
			st.setHash(o, h)
			o.gen = gen
		}
		switch {
		case inPlace:
			// wp < rowStart: a row was left out before this one, so the
			// newline fits before the row's own end.
			wp += copy(b.Data[wp:], row)
			b.Data[wp] = '\n'
			wp++
		case copying:
			if cap(out)-len(out) < len(row)+1 {
				out = bufpool.Grow(out, len(row)+1)
			}
			out = append(out, row...)
			out = append(out, '\n')
		}
	}
	ex := w.extra(p)
	scoped := p.Scope == probes.ScopeDatabase
	// Objects of the previous run that this one lacks; the walk over all
	// objects is needed only when there are some.
	if int(seen) < st.live {
		for i := range st.objs {
			if o := &st.objs[i]; o.gen != gen && o.gen != gone {
				if !keyframe {
					ex.add(b.ConnectionID, t, b.Database, scoped, len(p.Key), st.keyOf(o), store.KindTombstone)
					w.tombs++
				}
				st.remove(o)
			}
		}
		st.compact()
	}
	kind := store.KindDelta
	if keyframe {
		kind = store.KindKeyframe
		st.keyframeAt = t
	} else if copying {
		it.data, it.filtered = out, true
	} else if inPlace {
		it.b.Data = b.Data[:wp]
	}
	ex.add(b.ConnectionID, t, b.Database, scoped, len(p.Key), nil, kind)
	st.at = t
	w.skipped += skipped
	w.changed[key(b)] = true
}

// reset gives up on a chain after a run that cannot be deduplicated: the
// run is stored in full and the next one starts a new chain.
func (d *deduper) reset(st *runState, w *dedupWork, k stateKey, out []byte) {
	bufpool.Put(out)
	*st = runState{}
	w.changed[k] = true
}

func (w *dedupWork) extra(p probes.Probe) *extraRows {
	ex := w.extras[p.Name]
	if ex == nil {
		cols := []string{"connection_id", "collected_at"}
		if p.Scope == probes.ScopeDatabase {
			cols = append(cols, "database_name")
		}
		ex = &extraRows{columns: append(append(cols, p.Key...), store.SampleKind)}
		w.extras[p.Name] = ex
	}
	return ex
}

// weekOf is the start of the weekly partition holding t.
func weekOf(t time.Time) time.Time {
	from, _ := partition.Week(t)
	return from
}
