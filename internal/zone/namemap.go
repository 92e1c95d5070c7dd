package zone

import "hash/maphash"

// nameMap maps lowercase wire names to nodes. It is split into shards so
// that a change copies only the shards it touches: an edit of a 1,000,000-
// name zone copies a few thousand entries, not the whole map. A published
// nameMap is never modified.
type nameMap struct {
	shards []map[string]*Node // len is a power of two
	seed   maphash.Seed
	count  int
}

// Entries per shard before the map is re-split into more shards.
const (
	shardTarget = 1024
	shardMax    = 4 * shardTarget
)

func newNameMap(seed maphash.Seed, sizeHint int) *nameMap {
	n := 1
	for n*shardTarget < sizeHint {
		n *= 2
	}
	m := &nameMap{shards: make([]map[string]*Node, n), seed: seed}
	per := sizeHint/n + 1
	for i := range m.shards {
		m.shards[i] = make(map[string]*Node, per)
	}
	return m
}

func (m *nameMap) shardOf(name []byte) int {
	if len(m.shards) == 1 {
		return 0
	}
	return int(maphash.Bytes(m.seed, name) & uint64(len(m.shards)-1))
}

func (m *nameMap) shardOfString(name string) int {
	if len(m.shards) == 1 {
		return 0
	}
	return int(maphash.String(m.seed, name) & uint64(len(m.shards)-1))
}

// get returns the node named name (lowercase wire), or nil.
func (m *nameMap) get(name []byte) *Node {
	return m.shards[m.shardOf(name)][string(name)]
}

// each calls fn for every node, in no particular order.
func (m *nameMap) each(fn func(*Node)) {
	for _, s := range m.shards {
		for _, n := range s {
			fn(n)
		}
	}
}

// mapEditor edits a copy of a nameMap, copying each shard the first time
// it is written.
type mapEditor struct {
	m     *nameMap
	owned []bool
}

func editMap(base *nameMap) *mapEditor {
	m := &nameMap{shards: append([]map[string]*Node(nil), base.shards...), seed: base.seed, count: base.count}
	return &mapEditor{m: m, owned: make([]bool, len(m.shards))}
}

func (e *mapEditor) get(name []byte) *Node { return e.m.get(name) }

func (e *mapEditor) own(i int) map[string]*Node {
	if !e.owned[i] {
		old := e.m.shards[i]
		c := make(map[string]*Node, len(old)+1)
		for k, v := range old {
			c[k] = v
		}
		e.m.shards[i] = c
		e.owned[i] = true
	}
	return e.m.shards[i]
}

func (e *mapEditor) put(n *Node) {
	s := e.own(e.m.shardOfString(n.name))
	if _, ok := s[n.name]; !ok {
		e.m.count++
	}
	s[n.name] = n
}

func (e *mapEditor) del(name []byte) {
	s := e.own(e.m.shardOf(name))
	if _, ok := s[string(name)]; ok {
		e.m.count--
		delete(s, string(name))
	}
}

// finish returns the edited map, re-split into more shards if it grew.
func (e *mapEditor) finish() *nameMap {
	m := e.m
	e.m = nil
	if m.count <= len(m.shards)*shardMax {
		return m
	}
	grown := newNameMap(m.seed, m.count)
	for _, s := range m.shards {
		for k, v := range s {
			grown.shards[grown.shardOfString(k)][k] = v
		}
	}
	grown.count = m.count
	return grown
}
