package dnsserver

import (
	"sync"

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
// is the zone that answered, by name; a reader finds its counters for a
// zone by the zone's slot (zone.Zone.Slot), which every Zone of that name
// shares, in every snapshot: no name is looked up per query, and a new
// snapshot's zones find the counters their names had.

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

// qtypeCells maps the query types under 256 to the first of their
// counts in a zone's (their index in QueryTypes times numRcodes); every
// other type maps to "other"'s.
var qtypeCells = func() (t [256]uint8) {
	for i := range t {
		t[i] = uint8((numQtypes - 1) * numRcodes)
	}
	for i, qt := range []uint16{dnsconst.TypeA, dnsconst.TypeAAAA, dnsconst.TypeCNAME, dnsconst.TypeMX, dnsconst.TypeNS,
		dnsconst.TypeSOA, dnsconst.TypeTXT, dnsconst.TypeSRV, dnsconst.TypePTR, 0, typeHTTPS, typeSVCB, dnsconst.TypeDS,
		typeDNSKEY, dnsconst.TypeANY, dnsconst.TypeAXFR, dnsconst.TypeIXFR} {
		if qt != 0 {
			t[qt] = uint8(i * numRcodes)
		}
	}
	return t
}()

func qtypeCell(t uint16) uint8 {
	if t < 256 {
		return qtypeCells[t]
	}
	if t == typeCAA {
		return uint8(9 * numRcodes)
	}
	return uint8((numQtypes - 1) * numRcodes)
}

func qtypeIndex(t uint16) int { return int(qtypeCell(t)) / numRcodes }

// rcodeIndexes maps the rcodes under 32 to their index in Rcodes;
// every other rcode maps to "other".
var rcodeIndexes = func() (t [32]uint8) {
	for i := range t {
		t[i] = uint8(numRcodes - 1)
	}
	for i, rc := range []int{dnsconst.RcodeSuccess, dnsconst.RcodeNXDomain, dnsconst.RcodeServFail, dnsconst.RcodeRefused,
		dnsconst.RcodeFormErr, dnsconst.RcodeNotImp, dnsconst.RcodeBadVers, dnsconst.RcodeBadCookie} {
		t[rc] = uint8(i)
	}
	return t
}()

func rcodeIndex(rc int) int { return int(rcodeCell(rc)) }

func rcodeCell(rc int) uint8 {
	if uint(rc) < uint(len(rcodeIndexes)) {
		return rcodeIndexes[rc]
	}
	return uint8(numRcodes - 1)
}

// Hand-over kinds, by index into HandOverKinds.
const (
	kindAXFR = iota
	kindIXFR
	kindNotify
	kindUpdate
	kindTSIG
)

// sizeIndexes maps (n-1)>>4 to the bucket of a response of n octets,
// for 0 < n <= 4096: every bound up to 4096 is a multiple of 16.
var sizeIndexes = func() (t [256]uint8) {
	for i := range t {
		n := i<<4 + 16 // the largest size of the slot
		for t[i] = 0; ResponseSizeBuckets[t[i]] < n; t[i]++ {
		}
	}
	return t
}()

// sizeIndex is the index of the bucket of a response of n octets in
// ResponseSizeBuckets (numSizes: over the last).
func sizeIndex(n int) int {
	if uint(n-1) < 4096 {
		return int(sizeIndexes[uint(n-1)>>4])
	}
	switch {
	case n <= 0:
		return 0
	case n <= 65535:
		return numSizes - 1
	}
	return numSizes
}

// zoneCells is the number of query counts of one zone: one per query
// type and rcode (the transport is the reader's), at
// qtypeCell(qtype)+rcodeIndex(rcode).
const zoneCells = numQtypes * numRcodes

// zoneCounts are one reader's published queries for one zone, by
// qtypeCell(qtype)+rcodeIndex(rcode); the reader adds to them under its
// mu, Stats reads them under it.
type zoneCounts struct {
	name string      // the zone's; "" for queries no zone answered
	n    [256]uint64 // the first zoneCells; indexed by a uint8 without a check
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

// readerStats are one reader's counts. Counting a query writes one word
// to a log the reader alone touches (the zone's slot and the cell of its
// query type and rcode), and counting a response adds to plain fields the
// reader alone touches: no lock, no atomic, nothing shared, and a line or
// two of memory, always the same. At the end of each batch of queries (a
// UDP reader before it sends the batch's replies, a TCP connection
// before it writes each) the reader publishes: under its own mutex,
// which nothing but Stats (a scrape) ever takes, it adds the log to the
// zones' counts and copies the plain fields. A batch takes the mutex
// once, uncontended unless a scrape is summing this reader.
type readerStats struct {
	transport int
	nlog      int
	log       [queryLogSize]uint64 // slot+1 (0: no zone) << 8 | cell; the reader's alone
	c         fixedCounts          // the reader's alone

	mu     sync.Mutex
	bySlot []*zoneCounts // by slot+1, nil until counted; under mu
	zones  []*zoneCounts // every one of bySlot, for Stats; under mu
	pub    fixedCounts   // c as of the last publication; under mu
}

// queryLogSize bounds a reader's log of queries; a full one is published
// at once. A UDP batch fills half of it.
const queryLogSize = 2 * udpBatchSize

func newReaderStats(transport int) *readerStats {
	return &readerStats{transport: transport}
}

// publish makes the counts so far visible to Stats.
func (r *readerStats) publish() {
	r.mu.Lock()
	for _, e := range r.log[:r.nlog] {
		i := int(e >> 8)
		if i >= len(r.bySlot) || r.bySlot[i] == nil {
			r.newZone(i)
		}
		r.bySlot[i].n[uint8(e)]++
	}
	r.pub = r.c
	r.mu.Unlock()
	r.nlog = 0
}

// query counts one response of the query path, answered by the zone z
// (nil: none).
func (r *readerStats) query(z *zone.Zone, qtype uint16, rcode int) {
	var i uint64
	if z != nil {
		i = uint64(z.Slot()+1) << 8
	}
	if r.nlog >= len(r.log) {
		r.publish()
	}
	r.log[r.nlog] = i | uint64(qtypeCell(qtype)+rcodeCell(rcode))
	r.nlog++
}

// newZone makes the counters of the zone with slot i-1 (0: no zone), the
// first time the reader publishes a query of it; under mu.
func (r *readerStats) newZone(i int) {
	c := new(zoneCounts)
	if i > 0 {
		c.name = zone.SlotName(i - 1)
	}
	if i >= len(r.bySlot) {
		r.bySlot = append(r.bySlot, make([]*zoneCounts, i+1-len(r.bySlot))...)
	}
	r.bySlot[i] = c
	r.zones = append(r.zones, c)
}

// sent counts a response sent: its size, and whether it was truncated.
func (r *readerStats) sent(resp []byte) {
	r.c.sizes[sizeIndex(len(resp))]++
	r.c.sizeSum += uint64(len(resp))
	if len(resp) > 2 {
		r.c.truncated += uint64(resp[2] >> 1 & 1) // TC
	}
}

// serverStats are the server's readers' counts.
type serverStats struct {
	mu      sync.Mutex
	readers []*readerStats // every one, UDP readers and TCP ones
	tcpFree []*readerStats // TCP ones not in use
}

func newServerStats() *serverStats {
	return &serverStats{}
}

// udpReader returns the counts of a new UDP reader (nil: not counting).
func (s *serverStats) udpReader() *readerStats {
	if s == nil {
		return nil
	}
	r := newReaderStats(transportUDP)
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
	r := newReaderStats(transportTCP)
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
	zone                    string
	qtype, rcode, transport int
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
		for _, c := range r.zones {
			for i, n := range c.n[:zoneCells] {
				if n > 0 {
					sums[queryKey{c.name, i / numRcodes, i % numRcodes, r.transport}] += n
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
	out.Queries = make([]QueryCount, 0, len(sums))
	for k, n := range sums {
		out.Queries = append(out.Queries, QueryCount{Zone: k.zone, Qtype: QueryTypes[k.qtype], Rcode: Rcodes[k.rcode], Transport: Transports[k.transport], Count: n})
	}
	return out
}
