package zone

import (
	"hash/maphash"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/stratusdns/stratus/internal/dnsconst"
)

// nameMap maps lowercase wire names to nodes. It is split into shards so
// that a change copies only the shards it touches: an edit of a 1,000,000-
// name zone copies a thousand nodes, not the whole map. A published
// nameMap is never modified.
//
// A shard keeps its nodes in one array, their record sets in another,
// the RDATA slices in a third and the names and RDATA octets in two more,
// found through an open-addressing hash table of 32-bit slots: a handful
// of allocations per thousand names, instead of several per name, and few
// pointers for the garbage collector to follow.
type nameMap struct {
	shards []*shard // len is a power of two
	seed   maphash.Seed
	count  int
}

// Entries per shard before the map is re-split into more shards.
const (
	shardTarget = 1024
	shardMax    = 4 * shardTarget
)

// shard is one immutable part of a nameMap. The low bits of a name's hash
// choose its shard, bits 32 and up its first slot, and the top 8 bits are
// its tag, kept in the slot so that most probes compare no name.
type shard struct {
	slots []uint32 // 0 is empty, else (index into nodes + 1) << 8 | tag
	nodes []Node
}

// emptyShard holds no node; its one slot is empty.
var emptyShard = &shard{slots: make([]uint32, 1)}

// newNameMap returns an empty map with shards for about names names.
func newNameMap(seed maphash.Seed, names int) *nameMap {
	m := &nameMap{shards: make([]*shard, shardsFor(names)), seed: seed}
	for i := range m.shards {
		m.shards[i] = emptyShard
	}
	return m
}

// shardsFor returns the number of shards for a map of n names.
func shardsFor(n int) int {
	s := 1
	for s*shardTarget < n {
		s *= 2
	}
	return s
}

func hashTag(h uint64) uint32 { return uint32(h >> 56) }

// get returns the node named name (lowercase wire), or nil.
func (m *nameMap) get(name []byte) *Node {
	h := maphash.Bytes(m.seed, name)
	return m.shards[h&uint64(len(m.shards)-1)].find(name, h)
}

// find returns the node named name, whose hash is h, or nil. The table
// always has an empty slot, which ends every probe.
func (s *shard) find(name []byte, h uint64) *Node {
	mask := uint64(len(s.slots) - 1)
	tag := hashTag(h)
	for i := h >> 32 & mask; ; i = (i + 1) & mask {
		v := s.slots[i]
		if v == 0 {
			return nil
		}
		if v&0xff == tag {
			if n := &s.nodes[v>>8-1]; n.name == string(name) {
				return n
			}
		}
	}
}

// each calls fn for every node, in no particular order.
func (m *nameMap) each(fn func(*Node)) {
	for _, s := range m.shards {
		for i := range s.nodes {
			fn(&s.nodes[i])
		}
	}
}

// slotsFor returns the size of a shard's table for n nodes: a power of
// two, at most three quarters full.
func slotsFor(n int) int {
	size := 1
	for size <= n || size*3 < n*4 {
		size <<= 1
	}
	return size
}

// shardBuf is a shard being edited: its nodes, their record sets and
// their data in flat arrays without pointers, so that building even a
// large zone allocates little and gives the garbage collector nothing to
// scan. A deleted node keeps its slot (and comes back to life if its name
// is added again); its data and that of replaced sets stay in the buffer
// until compose leaves them out.
type shardBuf struct {
	slots []uint32 // 0 is empty, else index into nodes + 1; at most half full
	nodes []bufNode
	sets  []bufSet
	data  []byte // node names, and each set's records: a 16-bit length, then RDATA
	base  *shard // the shard the buffer copies, if any
}

type bufNode struct {
	hash     uint64
	name     uint32 // offset of the name in data
	nameLen  uint8
	steered  bool
	deleted  bool
	children int32
	sets     int32 // the first set (the one of the lowest type), -1 for none
}

type bufSet struct {
	next  int32 // the node's set of the next higher type, -1 for none
	typ   uint16
	ttl   uint32
	count uint32 // records
	off   uint32 // the records in data
	size  uint32
}

// maxBufData bounds the octets one shardBuf holds, so that offsets fit 32
// bits.
const maxBufData = 1<<32 - 1

func (b *shardBuf) nameOf(i int32) []byte {
	n := &b.nodes[i]
	return b.data[n.name : n.name+uint32(n.nameLen)]
}

// find returns the index of the node named name, whose hash is h, deleted
// or not, or -1.
func (b *shardBuf) find(name []byte, h uint64) int32 {
	if len(b.slots) == 0 {
		return -1
	}
	mask := uint64(len(b.slots) - 1)
	for i := h >> 32 & mask; ; i = (i + 1) & mask {
		v := b.slots[i]
		if v == 0 {
			return -1
		}
		if n := &b.nodes[v-1]; n.hash == h && string(b.data[n.name:n.name+uint32(n.nameLen)]) == string(name) {
			return int32(v - 1)
		}
	}
}

// lookup is find for nodes that are not deleted.
func (b *shardBuf) lookup(name []byte, h uint64) int32 {
	i := b.find(name, h)
	if i >= 0 && b.nodes[i].deleted {
		return -1
	}
	return i
}

// add adds a node without records named name, whose hash is h, and
// returns its index. The buffer must not hold the name, unless as the
// deleted node i (-1 for none), which comes back to life.
func (b *shardBuf) add(name []byte, h uint64, i int32) int32 {
	if i >= 0 {
		b.nodes[i] = bufNode{hash: h, name: b.nodes[i].name, nameLen: b.nodes[i].nameLen, sets: -1}
		return i
	}
	off := uint32(len(b.data))
	b.data = append(b.data, name...)
	return b.push(bufNode{hash: h, name: off, nameLen: uint8(len(name)), sets: -1})
}

// push appends n, whose name is already in data, and indexes it.
func (b *shardBuf) push(n bufNode) int32 {
	if (len(b.nodes)+1)*2 > len(b.slots) {
		b.grow()
	}
	b.nodes = append(b.nodes, n)
	i := int32(len(b.nodes) - 1)
	b.index(i)
	return i
}

func (b *shardBuf) index(i int32) {
	mask := uint64(len(b.slots) - 1)
	j := b.nodes[i].hash >> 32 & mask
	for b.slots[j] != 0 {
		j = (j + 1) & mask
	}
	b.slots[j] = uint32(i) + 1
}

func (b *shardBuf) grow() {
	b.slots = make([]uint32, max(16, 2*len(b.slots)))
	for i := range b.nodes {
		b.index(int32(i))
	}
}

// del deletes node i: it no longer counts, and has no sets.
func (b *shardBuf) del(i int32) {
	b.nodes[i].deleted = true
	b.nodes[i].sets = -1
}

// empty reports whether nothing keeps node i in its zone: no records, no
// children, no steered mark.
func (b *shardBuf) empty(i int32) bool {
	n := &b.nodes[i]
	return n.sets < 0 && n.children == 0 && !n.steered
}

// hasSet reports whether node i has a set of type t.
func (b *shardBuf) hasSet(i int32, t uint16) bool {
	for s := b.nodes[i].sets; s >= 0; s = b.sets[s].next {
		if b.sets[s].typ == t {
			return true
		}
	}
	return false
}

// putSet replaces the set of type t of node i with count records (in the
// wire form of SetRRsetWire), or removes it when count is 0.
func (b *shardBuf) putSet(i int32, t uint16, ttl uint32, records []byte, count int) {
	link := &b.nodes[i].sets
	for *link >= 0 && b.sets[*link].typ < t {
		link = &b.sets[*link].next
	}
	next := *link
	if next >= 0 && b.sets[next].typ == t {
		next = b.sets[next].next
	}
	if count == 0 {
		*link = next
		return
	}
	off := uint32(len(b.data))
	b.data = append(b.data, records...)
	// link may point into b.sets, which the append below can move.
	s := int32(len(b.sets))
	b.sets = append(b.sets, bufSet{next: next, typ: t, ttl: ttl, count: uint32(count), off: off, size: uint32(len(records))})
	if p := b.prevSet(i, t); p >= 0 {
		b.sets[p].next = s
	} else {
		b.nodes[i].sets = s
	}
}

// prevSet returns the set of node i that precedes type t, or -1 when t
// would come first.
func (b *shardBuf) prevSet(i int32, t uint16) int32 {
	p := int32(-1)
	for s := b.nodes[i].sets; s >= 0 && b.sets[s].typ < t; s = b.sets[s].next {
		p = s
	}
	return p
}

// copyNode appends node i of src (not deleted) to b.
func (b *shardBuf) copyNode(src *shardBuf, i int32) {
	n := src.nodes[i]
	off := uint32(len(b.data))
	b.data = append(b.data, src.nameOf(i)...)
	first := n.sets
	n.name, n.sets = off, -1
	j := b.push(n)
	last := int32(-1)
	for s := first; s >= 0; s = src.sets[s].next {
		set := src.sets[s]
		k := int32(len(b.sets))
		set.next, set.off = -1, uint32(len(b.data))
		b.data = append(b.data, src.data[src.sets[s].off:src.sets[s].off+set.size]...)
		b.sets = append(b.sets, set)
		if last < 0 {
			b.nodes[j].sets = k
		} else {
			b.sets[last].next = k
		}
		last = k
	}
}

// newShardBuf returns an empty buffer with room for nodes nodes, sets sets
// and size octets of names and records.
func newShardBuf(nodes, sets, size int) *shardBuf {
	b, _ := bufPool.Get().(*shardBuf)
	if b == nil {
		b = &shardBuf{}
	}
	n := max(16, 2*slotsFor(nodes))
	if cap(b.slots) >= n {
		b.slots = b.slots[:n]
		clear(b.slots)
	} else {
		b.slots = make([]uint32, n)
	}
	b.nodes = reuse(b.nodes, nodes)
	b.sets = reuse(b.sets, sets)
	b.data = reuse(b.data, size)
	b.base = nil
	return b
}

// bufPool holds the buffers of shards already composed, for the next
// build: an edit of a large zone copies a shard or two into buffers, and
// drops them at Build.
var bufPool sync.Pool

// release puts b in bufPool unless it is larger than a shard usually is.
func (b *shardBuf) release() {
	if cap(b.nodes) <= 2*shardMax && cap(b.data) <= 2*shardMax*64 {
		b.base = nil
		bufPool.Put(b)
	}
}

// reuse returns s emptied if it has room for n elements, else a new
// slice that has.
func reuse[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:0]
	}
	return make([]T, 0, n)
}

// decompose returns a buffer holding the nodes of s.
func decompose(s *shard, seed maphash.Seed) *shardBuf {
	var nsets, size int
	for i := range s.nodes {
		n := &s.nodes[i]
		size += len(n.name)
		nsets += len(n.sets)
		for _, set := range n.sets {
			for _, rd := range set.Rdata {
				size += 2 + len(rd)
			}
		}
	}
	b := newShardBuf(len(s.nodes)+4, nsets+4, size+256)
	b.base = s
	for i := range s.nodes {
		n := &s.nodes[i]
		off := uint32(len(b.data))
		b.data = append(b.data, n.name...)
		j := b.push(bufNode{hash: maphash.String(seed, n.name), name: off, nameLen: uint8(len(n.name)),
			steered: n.steered, children: n.children, sets: -1})
		last := int32(-1)
		for _, set := range n.sets {
			k := int32(len(b.sets))
			off := uint32(len(b.data))
			for _, rd := range set.Rdata {
				b.data = append(b.data, byte(len(rd)>>8), byte(len(rd)))
				b.data = append(b.data, rd...)
			}
			b.sets = append(b.sets, bufSet{next: -1, typ: set.Type, ttl: set.TTL, count: uint32(len(set.Rdata)),
				off: off, size: uint32(len(b.data)) - off})
			if last < 0 {
				b.nodes[j].sets = k
			} else {
				b.sets[last].next = k
			}
			last = k
		}
	}
	return b
}

// live returns the indexes of the nodes that are not deleted.
func (b *shardBuf) live() []int32 {
	out := make([]int32, 0, len(b.nodes))
	for i := range b.nodes {
		if !b.nodes[i].deleted {
			out = append(out, int32(i))
		}
	}
	return out
}

// compose returns a shard of the nodes idx of b, in the zone with the
// lowercase wire origin. When b holds the nodes of the shard it copies,
// in the same order (records changed, but no node added or deleted), the
// new shard shares that shard's names and table.
func (b *shardBuf) compose(idx []int32, origin string) *shard {
	same := b.base != nil && len(idx) == len(b.nodes) && len(b.nodes) == len(b.base.nodes)
	nnames, nsets, nrecs, size := 0, 0, 0, 0
	for _, i := range idx {
		n := &b.nodes[i]
		nnames += int(n.nameLen)
		for s := n.sets; s >= 0; s = b.sets[s].next {
			nsets++
			nrecs += int(b.sets[s].count)
			size += int(b.sets[s].size - 2*b.sets[s].count)
		}
	}
	var all string
	if !same {
		var names strings.Builder
		names.Grow(nnames)
		for _, i := range idx {
			names.Write(b.nameOf(i))
		}
		all = names.String()
	}
	s := &shard{nodes: make([]Node, len(idx))}
	if same {
		s.slots = b.base.slots
	} else {
		s.slots = make([]uint32, slotsFor(len(idx)))
	}
	sets := make([]RRset, nsets)
	rdata := make([][]byte, nrecs)
	data := make([]byte, size)
	mask := uint64(len(s.slots) - 1)
	var noff, si, ri, di int
	for k, i := range idx {
		bn := &b.nodes[i]
		n := &s.nodes[k]
		if same {
			n.name = b.base.nodes[k].name
		} else {
			n.name = all[noff : noff+int(bn.nameLen)]
			noff += int(bn.nameLen)
		}
		n.children, n.steered = bn.children, bn.steered
		first := si
		for bs := bn.sets; bs >= 0; bs = b.sets[bs].next {
			set := &b.sets[bs]
			recs := b.data[set.off : set.off+set.size]
			r0 := ri
			for range set.count {
				l := int(recs[0])<<8 | int(recs[1])
				copy(data[di:], recs[2:2+l])
				rdata[ri] = data[di : di+l : di+l]
				ri++
				di += l
				recs = recs[2+l:]
			}
			sets[si] = RRset{Type: set.typ, TTL: set.ttl, Rdata: rdata[r0:ri:ri]}
			si++
			if set.typ == dnsconst.TypeNS && n.name != origin {
				n.cut = true
			}
		}
		if si > first {
			n.sets = sets[first:si:si]
		}
		if same {
			continue
		}
		j := bn.hash >> 32 & mask
		for s.slots[j] != 0 {
			j = (j + 1) & mask
		}
		s.slots[j] = uint32(k+1)<<8 | hashTag(bn.hash)
	}
	return s
}

// mapEditor edits a copy of a nameMap, copying each shard into a buffer
// the first time it is written.
type mapEditor struct {
	base   *nameMap
	bufs   []*shardBuf // by shard of base; nil while untouched
	count  int
	expect int // names expected in each empty shard, to size its buffer
}

func editMap(base *nameMap) *mapEditor {
	return &mapEditor{base: base, bufs: make([]*shardBuf, len(base.shards)), count: base.count}
}

func (e *mapEditor) hash(name []byte) uint64 { return maphash.Bytes(e.base.seed, name) }

func (e *mapEditor) shardOf(h uint64) int { return int(h & uint64(len(e.bufs)-1)) }

// own returns the buffer of the shard that holds the names of hash h,
// copying the shard the first time.
func (e *mapEditor) own(h uint64) *shardBuf {
	i := e.shardOf(h)
	if e.bufs[i] == nil {
		if s := e.base.shards[i]; len(s.nodes) == 0 && e.expect > 0 {
			// Room for a few more than the average, each name with a set
			// of one small record.
			n := e.expect + e.expect/8 + 4
			e.bufs[i] = newShardBuf(n, n, n*32)
		} else {
			e.bufs[i] = decompose(s, e.base.seed)
		}
	}
	return e.bufs[i]
}

// state reports, without copying a shard, whether the node named name
// (of hash h) exists, whether it is steered, and whether it has a set of
// type t.
func (e *mapEditor) state(name []byte, h uint64, t uint16) (exists, steered, hasSet bool) {
	if b := e.bufs[e.shardOf(h)]; b != nil {
		i := b.lookup(name, h)
		if i < 0 {
			return false, false, false
		}
		return true, b.nodes[i].steered, b.hasSet(i, t)
	}
	n := e.base.shards[e.shardOf(h)].find(name, h)
	if n == nil {
		return false, false, false
	}
	return true, n.steered, n.Get(t) != nil
}

// finish returns the edited map, re-split into more shards if it grew.
func (e *mapEditor) finish(origin string) *nameMap {
	m := &nameMap{seed: e.base.seed, count: e.count}
	if e.count <= len(e.bufs)*shardMax {
		m.shards = slices.Clone(e.base.shards)
		var touched []int
		for i, b := range e.bufs {
			if b != nil {
				touched = append(touched, i)
			}
		}
		parallel(len(touched), func(k int) {
			b := e.bufs[touched[k]]
			m.shards[touched[k]] = b.compose(b.live(), origin)
			b.release()
		})
		e.bufs = nil
		return m
	}
	// Gather every node in one buffer, then split it into shards of about
	// shardTarget nodes.
	all := e.bufs[0]
	if len(e.bufs) > 1 || all == nil {
		all = &shardBuf{}
		for i, b := range e.bufs {
			if b == nil {
				b = decompose(e.base.shards[i], e.base.seed)
			}
			for j := range b.nodes {
				if !b.nodes[j].deleted {
					all.copyNode(b, int32(j))
				}
			}
			b.release()
		}
	}
	n := shardsFor(e.count)
	mask := uint64(n - 1)
	start := make([]int, n+1)
	for i := range all.nodes {
		if !all.nodes[i].deleted {
			start[all.nodes[i].hash&mask+1]++
		}
	}
	for i := range n {
		start[i+1] += start[i]
	}
	idx := make([]int32, start[n])
	next := slices.Clone(start[:n])
	for i := range all.nodes {
		if !all.nodes[i].deleted {
			k := all.nodes[i].hash & mask
			idx[next[k]] = int32(i)
			next[k]++
		}
	}
	m.shards = make([]*shard, n)
	parallel(n, func(k int) { m.shards[k] = all.compose(idx[start[k]:start[k+1]], origin) })
	all.release()
	e.bufs = nil
	return m
}

// parallel calls fn(i) for each i in [0, n), on several goroutines when n
// is large.
func parallel(n int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n/64)
	if workers <= 1 {
		for i := range n {
			fn(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				fn(i)
			}
		})
	}
	wg.Wait()
}
