package dnsserver

import (
	"math/bits"
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/stratusdns/stratus/internal/dnsconst"
	"github.com/stratusdns/stratus/internal/zone"
)

// Counting for metrics. Each UDP reader owns a readerStats, and so does
// each TCP connection while it is open (taken from a pool and given back
// at close, counts kept, so a busy server allocates no new ones). A
// reader counts into plain fields only it touches: no lock, no atomic,
// no allocation once it has seen a zone. It publishes its counts once a
// batch of queries, under a mutex of its own that only Stats (a scrape)
// also takes; Stats sums every reader's published counts.
//
// Queries are counted by zone, query type, rcode and transport. The zone
// is the zone that answered, by name; a reader finds the index of its
// counters for a zone through a small cache keyed by the *zone.Zone (a
// new snapshot brings new ones, so after a reload each reader looks each
// zone up once, under the server's lock, in the table of zone names).

// QueryTypes are the query types queries are counted by (the label
// values of qtype); every other type counts as "other".
var QueryTypes = [...]string{"A", "AAAA", "CNAME", "MX", "NS", "SOA", "TXT", "SRV", "PTR", "CAA", "HTTPS", "SVCB", "DS", "DNSKEY", "ANY", "AXFR", "IXFR", "other"}

// Rcodes are the rcodes responses are counted by; every other rcode
// counts as "other".
var Rcodes = [...]string{"NOERROR", "NXDOMAIN", "SERVFAIL", "REFUSED", "FORMERR", "NOTIMP", "BADVERS", "BADCOOKIE", "other"}

// HandOverKinds are the kinds of requests the query path hands over to
// the Extended handler: zone transfers, NOTIFY, UPDATE, and ordinary
// queries signed with TSIG (a signed transfer, NOTIFY or UPDATE counts
// as what it is).
var HandOverKinds = [...]string{"axfr", "ixfr", "notify", "update", "tsig"}

// ResponseSizeBuckets are the upper bounds, in octets, of the buckets
// response sizes are counted in.
var ResponseSizeBuckets = [...]int{64, 128, 256, 512, 1024, 1232, 2048, 4096, 65535}

// Transports are the transports counts are kept for, by index.
var Transports = [...]string{"udp", "tcp"}

const (
	numQtypes = len(QueryTypes)
	numRcodes = len(Rcodes)
	numKinds  = len(HandOverKinds)
	numSizes  = len(ResponseSizeBuckets)

	transportUDP = 0
	transportTCP = 1
)

const (
	typeDNSKEY = 48
	typeSVCB   = 64
	typeHTTPS  = 65
	typeCAA    = 257
)

// qtypeIndexes maps the query types under 256 to their index in
// QueryTypes, plus one (0: other).
var qtypeIndexes = func() (t [256]uint8) {
	for i, qt := range []uint16{dnsconst.TypeA, dnsconst.TypeAAAA, dnsconst.TypeCNAME, dnsconst.TypeMX, dnsconst.TypeNS,
		dnsconst.TypeSOA, dnsconst.TypeTXT, dnsconst.TypeSRV, dnsconst.TypePTR, 0, typeHTTPS, typeSVCB, dnsconst.TypeDS,
		typeDNSKEY, dnsconst.TypeANY, dnsconst.TypeAXFR, dnsconst.TypeIXFR} {
		if qt != 0 {
			t[qt] = uint8(i + 1)
		}
	}
	return t
}()

func qtypeIndex(t uint16) int {
	if t < 256 {
		if i := qtypeIndexes[t]; i > 0 {
			return int(i - 1)
		}
	} else if t == typeCAA {
		return 9
	}
	return numQtypes - 1
}

// rcodeIndexes maps the rcodes under 32 to their index in Rcodes, plus
// one (0: other).
var rcodeIndexes = func() (t [32]uint8) {
	for i, rc := range []int{dnsconst.RcodeSuccess, dnsconst.RcodeNXDomain, dnsconst.RcodeServFail, dnsconst.RcodeRefused,
		dnsconst.RcodeFormErr, dnsconst.RcodeNotImp, dnsconst.RcodeBadVers, dnsconst.RcodeBadCookie} {
		t[rc] = uint8(i + 1)
	}
	return t
}()

func rcodeIndex(rc int) int {
	if uint(rc) < uint(len(rcodeIndexes)) {
		if i := rcodeIndexes[rc]; i > 0 {
			return int(i - 1)
		}
	}
	return numRcodes - 1
}

// Hand-over kinds, by index into HandOverKinds.
const (
	kindAXFR = iota
	kindIXFR
	kindNotify
	kindUpdate
	kindTSIG
)

// sizeIndex is the index of the bucket of a response of n octets in
// ResponseSizeBuckets (numSizes: over the last).
func sizeIndex(n int) int {
	switch {
	case n <= 64:
		return 0
	case n <= 1024: // 128, 256, 512 and 1024: the powers of two
		return bits.Len(uint(n-1)) - 6
	case n <= 1232:
		return 5
	case n <= 2048:
		return 6
	case n <= 4096:
		return 7
	case n <= 65535:
		return 8
	}
	return numSizes
}

// zoneCells is the number of query counts of one zone: one per query
// type and rcode (the transport is the reader's).
const zoneCells = numQtypes * numRcodes

// zoneCounts are one reader's queries for one zone, by
// qtype*numRcodes+rcode: n counted by the reader, plainly, pub the same
// as of the last publication, read by Stats under the reader's mu.
type zoneCounts struct {
	n     [zoneCells]uint64
	dirty bool // n changed since published; the reader's alone
	pub   [zoneCells]uint64
}

// fixedCounts are one reader's counts that are not by zone.
type fixedCounts struct {
	truncated uint64
	sizes     [numSizes + 1]uint64
	sizeSum   uint64
	handOver  [numKinds]uint64
	dropped   uint64 // by rate limiting
	slipped   uint64
}

// zoneCacheBits is the log2 of the size of a reader's cache of zones.
const (
	zoneCacheBits  = 6
	zoneCacheSlots = 1 << zoneCacheBits
)

type zoneCacheEntry struct {
	z      uintptr // the *zone.Zone, as an address only: a cache must not keep a zone alive
	name   string  // its name: a later zone at the same address is told apart by it
	counts *zoneCounts
}

// readerStats are one reader's counts. The reader counts into plain
// fields that only it touches, so a query costs a few plain additions;
// at the end of each batch of queries (a UDP reader before it sends the
// batch's replies, a TCP connection before it writes each) it publishes
// them: under its own mutex, which nothing but Stats (a scrape) ever
// takes, it copies the counts of the zones it counted in since, and the
// fixed counts, to their published copies. A batch takes the mutex once,
// uncontended but while a scrape sums this reader.
type readerStats struct {
	transport int
	names     *zoneNames
	cache     [zoneCacheSlots]zoneCacheEntry // the reader's alone
	dirty     []*zoneCounts                  // changed since published; the reader's alone
	byName    map[string]*zoneCounts         // behind the cache; the reader's alone
	none      *zoneCounts                    // zones[0], for queries no zone answered
	c         fixedCounts                    // the reader's alone

	mu    sync.Mutex
	zones []*zoneCounts // by zone index (0: no zone), nil until counted; grown under mu
	pub   fixedCounts   // c as of the last publication; under mu
}

func newReaderStats(transport int, names *zoneNames) *readerStats {
	return &readerStats{transport: transport, names: names, dirty: make([]*zoneCounts, 0, 8), byName: map[string]*zoneCounts{}}
}

// publish makes the counts so far visible to Stats.
func (r *readerStats) publish() {
	r.mu.Lock()
	for i, z := range r.dirty {
		z.pub = z.n
		z.dirty = false
		r.dirty[i] = nil
	}
	r.pub = r.c
	r.mu.Unlock()
	r.dirty = r.dirty[:0]
}

// zoneCounts returns the counters of z (nil: no zone). A hit in the
// cache compares two addresses and a length: the name's octets need no
// comparing, since the entry holds the name it saw, whose memory
// therefore cannot have been reused for another. A miss looks the name
// up in the reader's map, and only a name the reader has not seen yet
// takes the server's lock.
func (r *readerStats) zoneCounts(z *zone.Zone) *zoneCounts {
	if z == nil {
		if r.none == nil {
			r.none = r.counts(0)
		}
		return r.none
	}
	p := uintptr(unsafe.Pointer(z))
	e := &r.cache[uint64(p>>4)*0x9e3779b97f4a7c15>>(64-zoneCacheBits)]
	name := z.Name()
	if e.z == p && len(e.name) == len(name) && unsafe.StringData(e.name) == unsafe.StringData(name) {
		return e.counts
	}
	c, ok := r.byName[name]
	if !ok {
		c = r.counts(r.names.id(name))
		r.byName[name] = c
	}
	*e = zoneCacheEntry{z: p, name: name, counts: c}
	return c
}

// counts makes the counters of the zone with index id.
func (r *readerStats) counts(id int) *zoneCounts {
	c := new(zoneCounts)
	r.mu.Lock()
	if id >= len(r.zones) {
		r.zones = append(r.zones, make([]*zoneCounts, id+1-len(r.zones))...)
	}
	r.zones[id] = c
	r.mu.Unlock()
	if cap(r.dirty) < len(r.zones) { // every zone can be dirty at once
		r.dirty = slices.Grow(r.dirty, len(r.zones)-len(r.dirty))
	}
	return c
}

// query counts one response of the query path.
func (r *readerStats) query(z *zone.Zone, qtype uint16, rcode int) {
	c := r.zoneCounts(z)
	c.n[qtypeIndex(qtype)*numRcodes+rcodeIndex(rcode)]++
	if !c.dirty {
		c.dirty = true
		r.dirty = append(r.dirty, c)
	}
}

// sent counts a response sent: its size, and whether it was truncated.
func (r *readerStats) sent(resp []byte) {
	r.c.sizes[sizeIndex(len(resp))]++
	r.c.sizeSum += uint64(len(resp))
	if len(resp) > 2 && resp[2]&0x02 != 0 {
		r.c.truncated++
	}
}

// zoneNames gives every zone name counted an index: the index of its
// counters in every reader. Names are only ever added; the zones an
// operator defines are few, and a removed zone keeps its counts.
type zoneNames struct {
	mu    sync.Mutex
	ids   map[string]int
	names atomic.Pointer[[]string] // by index; replaced when one is added
}

func newZoneNames() *zoneNames {
	n := &zoneNames{ids: map[string]int{"": 0}}
	n.names.Store(&[]string{""})
	return n
}

func (n *zoneNames) id(name string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if id, ok := n.ids[name]; ok {
		return id
	}
	old := *n.names.Load()
	names := append(old[:len(old):len(old)], name)
	n.ids[name] = len(old)
	n.names.Store(&names)
	return len(old)
}

// serverStats are the server's readers' counts.
type serverStats struct {
	names *zoneNames

	mu      sync.Mutex
	readers []*readerStats // every one, UDP readers and TCP ones
	tcpFree []*readerStats // TCP ones not in use
}

func newServerStats() *serverStats {
	return &serverStats{names: newZoneNames()}
}

// udpReader returns the counts of a new UDP reader (nil: not counting).
func (s *serverStats) udpReader() *readerStats {
	if s == nil {
		return nil
	}
	r := newReaderStats(transportUDP, s.names)
	s.mu.Lock()
	s.readers = append(s.readers, r)
	s.mu.Unlock()
	return r
}

// tcpTake returns the counts for a TCP connection: one given back by a
// connection that closed, or a new one. tcpGive gives it back.
func (s *serverStats) tcpTake() *readerStats {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := len(s.tcpFree); n > 0 {
		r := s.tcpFree[n-1]
		s.tcpFree = s.tcpFree[:n-1]
		return r
	}
	r := newReaderStats(transportTCP, s.names)
	s.readers = append(s.readers, r)
	return r
}

func (s *serverStats) tcpGive(r *readerStats) {
	if s == nil || r == nil {
		return
	}
	s.mu.Lock()
	s.tcpFree = append(s.tcpFree, r)
	s.mu.Unlock()
}

// Stats are the counts of a server since it was made: every reader's,
// summed.
type Stats struct {
	// Queries are the responses of the query path by zone, query type,
	// rcode and transport (only those counted at least once). Zone is the
	// name of the zone that answered, "" when none did.
	Queries []QueryCount
	// Transports are the responses sent, by transport (Transports).
	Transports [len(Transports)]TransportStats
	// HandedOver counts the requests handed over, by kind (HandOverKinds).
	HandedOver [numKinds]uint64
	// RRLDropped and RRLSlipped count the UDP answers rate limiting
	// dropped, and sent truncated instead.
	RRLDropped, RRLSlipped uint64
	// TCPConnections is the number of TCP connections open now.
	TCPConnections int
}

// QueryCount is the count of one combination of labels.
type QueryCount struct {
	Zone, Qtype, Rcode, Transport string
	Count                         uint64
}

// TransportStats are the responses sent over one transport.
type TransportStats struct {
	// Truncated counts responses with TC set (rate limiting's slips
	// included).
	Truncated uint64
	// SizeBuckets[i] counts responses of at most ResponseSizeBuckets[i]
	// octets (cumulative, as Prometheus has them); Count and Sum are of
	// all of them.
	SizeBuckets [numSizes]uint64
	Count, Sum  uint64
}

type queryKey struct {
	zone, qtype, rcode, transport int
}

// Stats returns the counts so far. With counting off (Config.Stats) they
// are all zero but TCPConnections.
func (s *Server) Stats() Stats {
	var out Stats
	s.tcpc.mu.Lock()
	out.TCPConnections = len(s.tcpc.conns)
	s.tcpc.mu.Unlock()
	if s.stats == nil {
		return out
	}
	s.stats.mu.Lock()
	readers := append([]*readerStats(nil), s.stats.readers...)
	s.stats.mu.Unlock()
	sums := map[queryKey]uint64{}
	for _, r := range readers {
		r.mu.Lock()
		for id, c := range r.zones {
			if c == nil {
				continue
			}
			for i, n := range c.pub {
				if n > 0 {
					sums[queryKey{id, i / numRcodes, i % numRcodes, r.transport}] += n
				}
			}
		}
		p := r.pub
		r.mu.Unlock()
		t := &out.Transports[r.transport]
		t.Truncated += p.truncated
		var cum uint64
		for i, n := range p.sizes {
			cum += n
			if i < numSizes {
				t.SizeBuckets[i] += cum
			}
		}
		t.Count += cum
		t.Sum += p.sizeSum
		for k, n := range p.handOver {
			out.HandedOver[k] += n
		}
		out.RRLDropped += p.dropped
		out.RRLSlipped += p.slipped
	}
	// Loaded after the counts: a zone a reader counted has its name by
	// then (names are only ever added).
	names := *s.stats.names.names.Load()
	out.Queries = make([]QueryCount, 0, len(sums))
	for k, n := range sums {
		name := ""
		if k.zone < len(names) {
			name = names[k.zone]
		}
		out.Queries = append(out.Queries, QueryCount{Zone: name, Qtype: QueryTypes[k.qtype], Rcode: Rcodes[k.rcode], Transport: Transports[k.transport], Count: n})
	}
	return out
}
