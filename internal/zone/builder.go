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
	recs  []byte // scratch for SetRRset
}

type zoneEdit struct {
	z *Zone
	m *mapEditor
	// parent is the node a name was last added below, and parentName its
	// name: the next name added is likely its sibling.
	parent     nodeRef
	parentName []byte
}

// nodeRef is a node being edited: index i of buffer b.
type nodeRef struct {
	b *shardBuf
	i int32
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
// name. names is about how many names the zone will hold once built (0 if
// not known): with it, building a large zone copies less.
func (b *Builder) CreateZone(origin []byte, name string, names int) error {
	var offs [maxLabels]uint8
	nl := labelOffsets(origin, &offs)
	if nl < 1 || !isLowerWire(origin) {
		return fmt.Errorf("zone: bad origin %q", origin)
	}
	o := string(origin)
	z := &Zone{origin: o, originB: []byte(o), name: name, labels: nl, slot: slotOf(name)}
	m := editMap(newNameMap(b.base.seed, names))
	m.expect = names / len(m.bufs)
	h := m.hash(origin)
	m.own(h).add(origin, h, -1)
	m.count++
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
// copies rdata.
func (b *Builder) SetRRset(origin, owner []byte, t uint16, ttl uint32, rdata [][]byte) error {
	b.recs = b.recs[:0]
	for _, rd := range rdata {
		if len(rd) > 0xFFFF {
			return fmt.Errorf("zone: a record of %d octets at %q", len(rd), owner)
		}
		b.recs = append(b.recs, byte(len(rd)>>8), byte(len(rd)))
		b.recs = append(b.recs, rd...)
	}
	return b.setRRset(origin, owner, t, ttl, b.recs, len(rdata))
}

// SetRRsetWire is SetRRset with the records in wire form: each a 16-bit
// big-endian length followed by that many octets of RDATA, as they follow
// the TTL of a resource record in a DNS message. Empty records delete the
// set. The builder copies records.
func (b *Builder) SetRRsetWire(origin, owner []byte, t uint16, ttl uint32, records []byte) error {
	n := countRecords(records)
	if n < 0 {
		return fmt.Errorf("zone: malformed records for type %d at %q", t, owner)
	}
	return b.setRRset(origin, owner, t, ttl, records, n)
}

// countRecords returns the number of records in the wire form of
// SetRRsetWire, or -1 if records is not in that form.
func countRecords(records []byte) int {
	n := 0
	for len(records) > 0 {
		if len(records) < 2 {
			return -1
		}
		l := 2 + (int(records[0])<<8 | int(records[1]))
		if len(records) < l {
			return -1
		}
		records = records[l:]
		n++
	}
	return n
}

func (b *Builder) setRRset(origin, owner []byte, t uint16, ttl uint32, records []byte, count int) error {
	e, err := b.editOwner(origin, owner)
	if err != nil {
		return err
	}
	h := e.m.hash(owner)
	if count == 0 {
		if _, _, has := e.m.state(owner, h, t); !has {
			return nil // nothing changes: copy no shard
		}
		buf := e.m.own(h)
		i := buf.lookup(owner, h)
		buf.putSet(i, t, 0, nil, 0)
		if string(owner) != e.z.origin && buf.empty(i) {
			e.removeNode(owner)
		}
		return nil
	}
	if int64(len(e.m.own(h).data))+int64(len(records))+1<<16 > maxBufData {
		return fmt.Errorf("zone: too much data for one change to zone %s", e.z.name)
	}
	n := e.ensure(owner, h)
	n.b.putSet(n.i, t, ttl, records, count)
	return nil
}

// SetSteered marks owner (lowercase wire) in the zone with the lowercase
// wire origin as a steered name, or clears the mark.
func (b *Builder) SetSteered(origin, owner []byte, on bool) error {
	e, err := b.editOwner(origin, owner)
	if err != nil {
		return err
	}
	h := e.m.hash(owner)
	exists, steered, _ := e.m.state(owner, h, 0)
	if !exists && !on || exists && steered == on {
		return nil // nothing changes: copy no shard
	}
	n := e.ensure(owner, h)
	n.b.nodes[n.i].steered = on
	if !on && string(owner) != e.z.origin && n.b.empty(n.i) {
		e.removeNode(owner)
	}
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

// ensure returns the node named name (of hash h), creating it and any
// missing ancestors (empty non-terminals) up to the apex.
func (e *zoneEdit) ensure(name []byte, h uint64) nodeRef {
	b := e.m.own(h)
	i := b.find(name, h)
	if i >= 0 && !b.nodes[i].deleted {
		return nodeRef{b, i}
	}
	i = b.add(name, h, i)
	e.m.count++
	parent := name[int(name[0])+1:]
	p := e.parent
	if p.b == nil || string(parent) != string(e.parentName) {
		p = e.ensure(parent, e.m.hash(parent))
		e.parent, e.parentName = p, append(e.parentName[:0], parent...)
	}
	p.b.nodes[p.i].children++
	return nodeRef{b, i}
}

// removeNode deletes an empty leaf node and then every ancestor left as an
// empty leaf, stopping at the apex.
func (e *zoneEdit) removeNode(name []byte) {
	e.parent = nodeRef{} // it may be deleted
	for string(name) != e.z.origin {
		h := e.m.hash(name)
		b := e.m.own(h)
		b.del(b.lookup(name, h))
		e.m.count--
		name = name[int(name[0])+1:]
		p := e.ensure(name, e.m.hash(name))
		p.b.nodes[p.i].children--
		if string(name) == e.z.origin || !p.b.empty(p.i) {
			return
		}
	}
}

// Build publishes the builder's state as a new snapshot at revision.
func (b *Builder) Build(revision int64) *Snapshot {
	for _, e := range b.edits {
		e.z.nodes = e.m.finish(e.z.origin)
		e.z.finish()
	}
	s := &Snapshot{revision: revision, zones: b.zones, seed: b.base.seed}
	b.zones, b.edits = nil, nil
	return s
}
