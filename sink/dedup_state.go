package sink

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/cespare/xxhash/v2"
)

// A chain's objects are kept in the form dedup_state.keys stores them:
// per object the uvarint length of its key, the key, and the 8-byte hash
// of its last stored row. objs points into that blob and index finds an
// object by the xxhash of its key, so a run updates the hashes of the
// objects that changed in place and the state is written back without
// encoding it again; only a run that removes objects rebuilds the blob.
//
// Nothing in a runState holds a pointer per object: a collector watching
// a thousand servers keeps millions of objects, and the garbage collector
// scans none of them. That costs about 12 + 28 bytes per object beside
// the blob, against some 120 for a map of strings to pointers.

// object is one object of a chain's last run.
type object struct {
	key, klen uint32 // its key is blob[key : key+klen]; the hash follows
	gen       uint32 // the run that last saw it; gone once removed
}

// gone marks a removed object until the blob is rebuilt.
const gone = ^uint32(0)

// runState is one dedup_state row.
type runState struct {
	at, keyframeAt time.Time         // at zero: no chain yet
	index          map[uint64]uint32 // xxhash of the key → objs
	objs           []object
	blob           []byte // the objects as dedup_state.keys holds them
	live           int    // objects not removed
	dirty          bool   // objects were removed: blob must be rebuilt
	gen            uint32
	cost           int64 // bytes the cache charged for it (dedup_cache.go)
}

// errKeyCollision: two keys of one chain share a key hash.
var errKeyCollision = errors.New("dedup state: two keys with the same hash")

func (st *runState) keyOf(o *object) []byte { return st.blob[o.key : o.key+o.klen] }

func (st *runState) hash(o *object) uint64 {
	return binary.LittleEndian.Uint64(st.blob[o.key+o.klen:])
}

func (st *runState) setHash(o *object, h uint64) {
	binary.LittleEndian.PutUint64(st.blob[o.key+o.klen:], h)
}

// find returns the object of key, or nil. collision is true when another
// key has the same hash: the chain can no longer tell the two apart.
func (st *runState) find(key []byte) (o *object, collision bool) {
	i, ok := st.index[xxhash.Sum64(key)]
	if !ok {
		return nil, false
	}
	o = &st.objs[i]
	if o.gen == gone {
		return nil, false
	}
	if string(st.keyOf(o)) != string(key) {
		return nil, true
	}
	return o, false
}

// add appends a new object; the caller has made sure find does not know
// its key.
func (st *runState) add(key []byte, h uint64, gen uint32) {
	if st.index == nil {
		st.index = map[uint64]uint32{}
	}
	st.blob = binary.AppendUvarint(st.blob, uint64(len(key)))
	off := len(st.blob)
	st.blob = append(st.blob, key...)
	st.blob = binary.LittleEndian.AppendUint64(st.blob, h)
	st.index[xxhash.Sum64(key)] = uint32(len(st.objs))
	st.objs = append(st.objs, object{key: uint32(off), klen: uint32(len(key)), gen: gen})
	st.live++
}

// remove forgets an object; compact drops it from the blob.
func (st *runState) remove(o *object) {
	delete(st.index, xxhash.Sum64(st.keyOf(o)))
	o.gen = gone
	st.live--
	st.dirty = true
}

// compact rebuilds the blob and the object list without the removed
// objects, keeping the order of the rest.
func (st *runState) compact() {
	if !st.dirty {
		return
	}
	n := 0
	for i := range st.objs {
		if o := &st.objs[i]; o.gen != gone {
			n += int(o.klen) + binary.MaxVarintLen32 + 8
		}
	}
	blob := make([]byte, 0, n)
	objs := make([]object, 0, st.live)
	for i := range st.objs {
		o := &st.objs[i]
		if o.gen == gone {
			continue
		}
		k := st.keyOf(o)
		blob = binary.AppendUvarint(blob, uint64(len(k)))
		off := len(blob)
		blob = append(blob, k...)
		blob = binary.LittleEndian.AppendUint64(blob, st.hash(o))
		st.index[xxhash.Sum64(k)] = uint32(len(objs))
		objs = append(objs, object{key: uint32(off), klen: o.klen, gen: o.gen})
	}
	st.blob, st.objs, st.dirty = blob, objs, false
}

// encoded returns the blob, rebuilt if objects were removed.
func (st *runState) encoded() []byte {
	st.compact()
	return st.blob
}

// size is what the state holds in memory, roughly: the cache's budget
// counts it.
func (st *runState) size() int64 {
	// A swiss-table slot of uint64 → uint32 with its control byte is 17
	// bytes; tables are between 7/16 and 7/8 full.
	const perIndexEntry = 28
	return int64(cap(st.blob) + cap(st.objs)*12 + len(st.index)*perIndexEntry + 200)
}

// decodeObjects reads a blob from dedup_state.keys into st. A key that
// comes twice, or two keys of one hash, is errKeyCollision: the caller
// starts a new chain.
func (st *runState) decodeObjects(blob []byte) error {
	// A first pass counts the objects, so the index and the list are
	// allocated once at their size: a miss of the cache decodes a state
	// per chain written, and growing them would double the garbage.
	count := 0
	for b := blob; len(b) > 0; count++ {
		n, w := binary.Uvarint(b)
		if w <= 0 || uint64(len(b)-w) < n+8 {
			return errors.New("dedup state: truncated object list")
		}
		b = b[uint64(w)+n+8:]
	}
	objs := make([]object, 0, count)
	index := make(map[uint64]uint32, count)
	for b := blob; len(b) > 0; {
		n, w := binary.Uvarint(b)
		b = b[w:]
		off := len(blob) - len(b)
		h := xxhash.Sum64(b[:n])
		if _, dup := index[h]; dup {
			return errKeyCollision
		}
		index[h] = uint32(len(objs))
		objs = append(objs, object{key: uint32(off), klen: uint32(n)})
		b = b[n+8:]
	}
	st.index, st.objs, st.blob, st.live, st.dirty = index, objs, blob, len(objs), false
	return nil
}
