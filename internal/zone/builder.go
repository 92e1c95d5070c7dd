package zone

import (
	"errors"
	"fmt"
)

// Builder makes the next Snapshot from a published one. Zones and nodes
// that no change touches are shared with the base snapshot; everything a
// change touches is copied first, so the base stays valid for the queries
// still reading it. A Builder is used by one goroutine and then discarded.
type Builder struct {
	base  *Snapshot
	zones map[string]*Zone
	edits map[string]*zoneEdit
}

type zoneEdit struct {
	z *Zone
	m *mapEditor
}

// NewBuilder starts a builder on base.
func NewBuilder(base *Snapshot) *Builder {
	zones := make(map[string]*Zone, len(base.zones)+1)
	for k, v := range base.zones {
		zones[k] = v
	}
	return &Builder{base: base, zones: zones, edits: map[string]*zoneEdit{}}
}

// ErrNoZone means a change named a zone the builder does not hold.
var ErrNoZone = errors.New("zone: no such zone")

// HasZone reports whether the zone with the lowercase wire origin exists.
func (b *Builder) HasZone(origin []byte) bool { return b.zones[string(origin)] != nil }

// CreateZone adds an empty zone (an apex with no records) with the
// lowercase wire origin and presentation name, replacing any zone of that
// name.
func (b *Builder) CreateZone(origin []byte, name string) error {
	var offs [maxLabels]uint8
	nl := labelOffsets(origin, &offs)
	if nl < 1 || !isLowerWire(origin) {
		return fmt.Errorf("zone: bad origin %q", origin)
	}
	o := string(origin)
	z := &Zone{origin: o, originB: []byte(o), name: name, labels: nl}
	m := editMap(newNameMap(b.base.seed, 0))
	m.put(&Node{name: o})
	b.zones[o] = z
	b.edits[o] = &zoneEdit{z: z, m: m}
	return nil
}

// DeleteZone removes a zone; removing a missing zone does nothing.
func (b *Builder) DeleteZone(origin []byte) {
	delete(b.zones, string(origin))
	delete(b.edits, string(origin))
}

func (b *Builder) edit(origin []byte) (*zoneEdit, error) {
	if e := b.edits[string(origin)]; e != nil {
		return e, nil
	}
	old := b.zones[string(origin)]
	if old == nil {
		return nil, fmt.Errorf("%w %q", ErrNoZone, origin)
	}
	z := *old
	e := &zoneEdit{z: &z, m: editMap(old.nodes)}
	b.zones[z.origin] = e.z
	b.edits[z.origin] = e
	return e, nil
}

// SetRRset replaces the set of type t at owner (lowercase wire) in the zone
// with the lowercase wire origin. Empty rdata deletes the set. The builder
// keeps rdata; the caller must not modify it afterwards.
func (b *Builder) SetRRset(origin, owner []byte, t uint16, ttl uint32, rdata [][]byte) error {
	e, err := b.editOwner(origin, owner)
	if err != nil {
		return err
	}
	apex := string(owner) == e.z.origin
	n := e.m.get(owner)
	if len(rdata) == 0 {
		if n == nil || n.Get(t) == nil {
			return nil
		}
		n2 := n.withSet(t, nil, apex)
		if !apex && n2.empty() {
			e.removeNode(owner)
			return nil
		}
		e.m.put(n2)
		return nil
	}
	if n == nil {
		n = e.ensure(owner)
	}
	e.m.put(n.withSet(t, &RRset{Type: t, TTL: ttl, Rdata: rdata}, apex))
	return nil
}

// SetSteered marks owner (lowercase wire) in the zone with the lowercase
// wire origin as a steered name, or clears the mark.
func (b *Builder) SetSteered(origin, owner []byte, on bool) error {
	e, err := b.editOwner(origin, owner)
	if err != nil {
		return err
	}
	apex := string(owner) == e.z.origin
	n := e.m.get(owner)
	if n == nil && !on || n != nil && n.steered == on {
		return nil // nothing changes: copy no shard
	}
	if n == nil {
		n = e.ensure(owner)
	}
	c := *n
	c.steered = on
	if !apex && c.empty() {
		e.removeNode(owner)
		return nil
	}
	e.m.put(&c)
	return nil
}

// editOwner returns the edit of the zone with the lowercase wire origin,
// checking that owner is a lowercase wire name in it.
func (b *Builder) editOwner(origin, owner []byte) (*zoneEdit, error) {
	e, err := b.edit(origin)
	if err != nil {
		return nil, err
	}
	if !e.z.holds(owner) || !isLowerWire(owner) || WireNameLen(owner) != len(owner) {
		return nil, fmt.Errorf("zone: owner %q is not a lowercase name in zone %s", owner, e.z.name)
	}
	return e, nil
}

// ensure returns the node named name, creating it and any missing
// ancestors (empty non-terminals) up to the apex.
func (e *zoneEdit) ensure(name []byte) *Node {
	if n := e.m.get(name); n != nil {
		return n
	}
	n := &Node{name: string(name)}
	e.m.put(n)
	parent := name[int(name[0])+1:]
	p := e.ensure(parent)
	e.m.put(p.withChildren(1))
	return n
}

// removeNode deletes an empty leaf node and then every ancestor left as an
// empty leaf, stopping at the apex.
func (e *zoneEdit) removeNode(name []byte) {
	for string(name) != e.z.origin {
		e.m.del(name)
		name = name[int(name[0])+1:]
		p := e.m.get(name).withChildren(-1)
		if string(name) == e.z.origin || !p.empty() {
			e.m.put(p)
			return
		}
	}
}

// Build publishes the builder's state as a new snapshot at revision.
func (b *Builder) Build(revision int64) *Snapshot {
	for _, e := range b.edits {
		e.z.nodes = e.m.finish()
		e.z.finish()
	}
	s := &Snapshot{revision: revision, zones: b.zones, seed: b.base.seed}
	b.zones, b.edits = nil, nil
	return s
}
