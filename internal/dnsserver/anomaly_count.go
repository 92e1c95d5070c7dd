package dnsserver

import (
	"encoding/binary"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"github.com/stratusdns/stratus/internal/dnsconst"
	"github.com/stratusdns/stratus/internal/zone"
)

// The query path's half of anomaly detection: counting. Each UDP reader
// owns an anomalyCounter (the TCP connections share one, under a lock) and
// counts into a table only it writes, with plain stores and no allocation:
// NXDOMAIN answers per zone, and queries per name in a bounded sketch. The
// detector's loop (anomaly.go) ends a period once a second by advancing
// the epoch; the reader, at its first query of the new period, hands the
// full table over and goes on with an empty one. A reader that gets no
// query keeps its table until it does: a period it could not hand over in
// time is dropped as stale, which only ever loses the tail of a reader's
// traffic before it fell silent.

// Sizes of a counting table.
const (
	nameSlots    = 256 // buckets of the per-name sketch
	nameBufs     = 32  // names copied per period (the hot ones)
	maxNameBytes = 255 // a wire-format name
	zoneSlots    = 8   // zones counted for NXDOMAIN per period
	nameSample   = 8   // one query in this many goes into the name sketch
)

// nameSlot is one bucket of the per-name sketch: the name (by hash) that
// holds it and its count, a lower bound of that name's queries in the
// period (a query for another name of the bucket takes one off, and takes
// the bucket when the count reaches 0: Misra-Gries with one counter per
// bucket). A name with more than half its bucket's queries keeps it; a
// name with a handful of queries, as in a random-subdomain flood, never
// counts more than it had.
type nameSlot struct {
	hash  uint64
	count uint32
	buf   int16 // index into names + 1; 0: name not copied
}

type zoneSlot struct {
	zone  string // presentation format, from the snapshot
	count uint32
}

// countTable is one period's counts of one reader.
type countTable struct {
	epoch  uint64 // the period counted
	slots  [nameSlots]nameSlot
	zones  [zoneSlots]zoneSlot
	nbufs  int
	names  [nameBufs][maxNameBytes]byte
	nlen   [nameBufs]uint8
	copyAt uint32 // a name is copied when its count reaches this
}

func (t *countTable) reset() {
	t.slots = [nameSlots]nameSlot{}
	t.zones = [zoneSlots]zoneSlot{}
	t.nbufs = 0
}

// name returns the copied name of slot s, nil if none was copied.
func (t *countTable) name(s *nameSlot) []byte {
	if s.buf == 0 {
		return nil
	}
	i := s.buf - 1
	return t.names[i][:t.nlen[i]]
}

// anomalyCounter is one reader's counting state.
type anomalyCounter struct {
	epoch *atomic.Uint64 // the detector's current period
	cur   *countTable    // the reader's own; only it touches it

	// shared is set for the counter the TCP connections share: count
	// takes it.
	shared *sync.Mutex
	rnd    uint64 // the sampling's random state, never 0

	mu   sync.Mutex
	full *countTable // handed over, not yet collected
	free *countTable // collected and reset, for the reader to take
}

func newAnomalyCounter(epoch *atomic.Uint64, copyAt uint32) *anomalyCounter {
	c := &anomalyCounter{epoch: epoch, cur: &countTable{}, free: &countTable{}, rnd: rand.Uint64() | 1}
	c.cur.copyAt, c.free.copyAt = copyAt, copyAt
	c.cur.epoch = epoch.Load()
	return c
}

// count counts one answered query: its name (as the client wrote it, in
// wire format), the answer's rcode and the zone that answered (nil when
// none did). It does not allocate. NXDOMAIN answers are all counted; one
// query in nameSample, picked at random, is counted in the per-name
// sketch (the hash is most of the cost of counting).
func (c *anomalyCounter) count(qname []byte, rcode int, z *zone.Zone) {
	if c.shared != nil {
		c.shared.Lock()
	}
	t := c.cur
	if e := c.epoch.Load(); e != t.epoch {
		t = c.handOver(e)
	}
	if rcode == dnsconst.RcodeNXDomain && z != nil {
		t.countZone(z.Name())
	}
	r := c.rnd // xorshift64
	r ^= r << 13
	r ^= r >> 7
	r ^= r << 17
	c.rnd = r
	if r%nameSample == 0 {
		t.countName(qname)
	}
	if c.shared != nil {
		c.shared.Unlock()
	}
}

// countName counts a query for qname in the per-name sketch.
func (t *countTable) countName(qname []byte) {
	h := nameHash(qname)
	s := &t.slots[h>>56]
	switch {
	case s.count > 0 && s.hash == h:
		s.count++
	case s.count == 0:
		*s = nameSlot{hash: h, count: 1}
	default:
		s.count--
	}
	if s.buf == 0 && s.hash == h && s.count >= t.copyAt && t.nbufs < nameBufs && len(qname) <= maxNameBytes {
		i := t.nbufs
		t.nbufs++
		t.nlen[i] = uint8(copy(t.names[i][:], qname))
		s.buf = int16(i + 1)
	}
}

// countZone counts an NXDOMAIN answer in zone (Misra-Gries, zoneSlots
// counters).
func (t *countTable) countZone(name string) {
	empty := -1
	for i := range t.zones {
		zs := &t.zones[i]
		if zs.count > 0 && zs.zone == name {
			zs.count++
			return
		}
		if zs.count == 0 && empty < 0 {
			empty = i
		}
	}
	if empty >= 0 {
		t.zones[empty] = zoneSlot{zone: name, count: 1}
		return
	}
	for i := range t.zones {
		if t.zones[i].count--; t.zones[i].count == 0 {
			t.zones[i].zone = ""
		}
	}
}

// handOver ends the reader's period: the full table goes to the detector
// and an empty one, labelled epoch, becomes the reader's.
func (c *anomalyCounter) handOver(epoch uint64) *countTable {
	c.mu.Lock()
	old := c.cur
	next, stale := c.free, false
	c.free = nil
	if next == nil { // the detector did not collect the last one in time
		next, stale = c.full, true
	}
	if next == nil { // the detector is reading it now: drop this period
		next = old
	} else {
		c.full = old
	}
	c.mu.Unlock()
	if stale || next == old {
		next.reset()
	}
	next.epoch = epoch
	c.cur = next
	return next
}

// collect takes the table handed over, if any; the detector gives it back
// with release once read.
func (c *anomalyCounter) collect() *countTable {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.full
	c.full = nil
	return t
}

func (c *anomalyCounter) release(t *countTable) {
	t.reset()
	c.mu.Lock()
	if c.free == nil {
		c.free = t
	}
	c.mu.Unlock()
}

// nameHash hashes a wire-format name without regard to ASCII case, eight
// octets at a time: each octet is folded with 0x20 (which lowercases A-Z)
// before it is mixed in. Names that differ only in that bit elsewhere
// ('@' and '`', label lengths 3 and 35) hash alike, which merges their
// counts as any collision of the sketch does.
func nameHash(name []byte) uint64 {
	n := len(name)
	if n < 8 {
		var w uint64
		for i, b := range name {
			w |= uint64(b) << (8 * i)
		}
		return ((w | hashFold) ^ hashSeed) * hashMul
	}
	// Two lanes, multiplied in parallel: the first word, and the last
	// (overlapping the words before when the length is not a multiple of
	// eight) with the length and the words between mixed in.
	a := (binary.LittleEndian.Uint64(name) | hashFold) * hashMul
	b := (binary.LittleEndian.Uint64(name[n-8:]) | hashFold) ^ uint64(n)*hashSeed
	for i := 8; i+8 < n; i += 8 {
		b = (b ^ (binary.LittleEndian.Uint64(name[i:]) | hashFold)) * hashMul2
	}
	// The top octet of the result, the bucket, is mixed from every octet.
	return (a ^ b) * hashMul2
}

const (
	hashSeed = 0x9e3779b97f4a7c15
	hashFold = 0x2020202020202020
	hashMul  = 0xff51afd7ed558ccd
	hashMul2 = 0xc4ceb9fe1a85ec53
)
