package dnsserver

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/stratusdns/stratus/internal/clock"
	"github.com/stratusdns/stratus/internal/dnsconst"
	"github.com/stratusdns/stratus/internal/dnswire"
	"github.com/stratusdns/stratus/internal/zone"
)

// Response rate limiting (RRL) keeps the server from being used to
// reflect and amplify traffic toward a victim whose address is spoofed in
// the queries. Every UDP answer is accounted in a token bucket keyed by the
// client's network prefix, the kind of answer (its class) and the name
// that makes answers alike: a client prefix asking the same question over
// and over gets answers up to the class's rate, then every Slip-th one
// truncated (TC set, no records: a real client asks again over TCP, which
// a spoofer cannot) and the others not at all. TCP is never limited.
//
// The buckets live in one table of fixed size shared by every UDP reader
// (SO_REUSEPORT spreads one client's source ports across readers, so
// tables per reader would multiply the limit), a bucket a word updated
// with compare-and-swap, without a lock; accounting an answer allocates
// nothing and reads no store.

// RRLConfig configures response rate limiting. The zero value means
// enabled with the defaults below.
type RRLConfig struct {
	// Disabled turns rate limiting off.
	Disabled bool
	// ResponsesPerSecond is the rate of answers per bucket: positive
	// answers per query name and type, NODATA per query name, referrals
	// per delegation, answers synthesized from a wildcard per closest
	// encloser (default 100).
	ResponsesPerSecond int
	// NXDomainsPerSecond is the rate of NXDOMAIN answers per zone
	// (default: ResponsesPerSecond).
	NXDomainsPerSecond int
	// ErrorsPerSecond is the rate of error answers (REFUSED, FORMERR,
	// SERVFAIL, NOTIMP...), all names together (default: ResponsesPerSecond).
	ErrorsPerSecond int
	// Slip: every Slip-th limited answer is sent truncated, the others
	// are dropped (default 2; 1 truncates every limited answer; negative:
	// none is sent).
	Slip int
	// Window bounds the debt a bucket keeps: a client that goes on asking
	// while limited stays limited until its rate over the window falls
	// under the limit (default 15s, at least 1s).
	Window time.Duration
	// IPv4Prefix and IPv6Prefix are the prefix lengths clients are
	// grouped by (default 24 and 56).
	IPv4Prefix, IPv6Prefix int
	// TableSize is the number of buckets, rounded up to a power of two
	// (default 65536: 512 KiB).
	TableSize int
	// Exempt lists client networks that are never limited.
	Exempt []netip.Prefix
	// Clock is the time the buckets fill on (default the system's).
	Clock clock.Clock
}

// RRL defaults. A bucket is one client network asking one question (or
// getting one kind of error, or NXDOMAIN in one zone): resolvers cache
// answers for their TTL, so even a large resolver farm behind one /24
// asks a name a few times per second at most; 100 per second is far
// above that, and above Stratus's own pollers (tests poll every 20 ms, a
// drill's client asks every 50 ms at most). Against a flood a bucket
// lets one second's worth of full answers through, then only slips while
// the flood goes on (BIND and Knot suggest 5 to 20 a second).
const (
	DefaultRRLResponsesPerSecond = 100
	DefaultRRLSlip               = 2
	MaxRRLSlip                   = 10
	DefaultRRLWindow             = 15 * time.Second
	DefaultRRLIPv4Prefix         = 24
	DefaultRRLIPv6Prefix         = 56
	DefaultRRLTableSize          = 65536
	// MinRRLTableSize and MaxRRLTableSize bound the table (at most 16
	// MiB of buckets).
	MinRRLTableSize = 16
	MaxRRLTableSize = 1 << 21
)

func (c *RRLConfig) withDefaults() (RRLConfig, error) {
	out := *c
	if out.Disabled {
		return out, nil
	}
	if out.ResponsesPerSecond < 0 || out.NXDomainsPerSecond < 0 || out.ErrorsPerSecond < 0 {
		return out, fmt.Errorf("dns: rrl: rates must not be negative")
	}
	if out.ResponsesPerSecond == 0 {
		out.ResponsesPerSecond = DefaultRRLResponsesPerSecond
	}
	if out.NXDomainsPerSecond == 0 {
		out.NXDomainsPerSecond = out.ResponsesPerSecond
	}
	if out.ErrorsPerSecond == 0 {
		out.ErrorsPerSecond = out.ResponsesPerSecond
	}
	if out.Slip == 0 {
		out.Slip = DefaultRRLSlip
	}
	if out.Slip > MaxRRLSlip {
		return out, fmt.Errorf("dns: rrl: slip %d is over %d", out.Slip, MaxRRLSlip)
	}
	if out.Window == 0 {
		out.Window = DefaultRRLWindow
	}
	if out.Window < time.Second {
		return out, fmt.Errorf("dns: rrl: window %v is shorter than 1s", out.Window)
	}
	if out.IPv4Prefix == 0 {
		out.IPv4Prefix = DefaultRRLIPv4Prefix
	}
	if out.IPv6Prefix == 0 {
		out.IPv6Prefix = DefaultRRLIPv6Prefix
	}
	if out.IPv4Prefix < 1 || out.IPv4Prefix > 32 {
		return out, fmt.Errorf("dns: rrl: ipv4 prefix /%d is outside 1..32", out.IPv4Prefix)
	}
	if out.IPv6Prefix < 1 || out.IPv6Prefix > 128 {
		return out, fmt.Errorf("dns: rrl: ipv6 prefix /%d is outside 1..128", out.IPv6Prefix)
	}
	if out.TableSize == 0 {
		out.TableSize = DefaultRRLTableSize
	}
	if out.TableSize < MinRRLTableSize || out.TableSize > MaxRRLTableSize {
		return out, fmt.Errorf("dns: rrl: table size %d is outside %d..%d", out.TableSize, MinRRLTableSize, MaxRRLTableSize)
	}
	for _, p := range out.Exempt {
		if !p.IsValid() {
			return out, fmt.Errorf("dns: rrl: exempt network %v is not valid", p)
		}
	}
	if out.Clock == nil {
		out.Clock = clock.Real()
	}
	return out, nil
}

// RRLStats counts what rate limiting did since the server started.
type RRLStats struct {
	// Limited answers were over their bucket's rate: Slipped were sent
	// truncated, Dropped not at all.
	Limited, Slipped, Dropped uint64
	// Evicted counts buckets taken over by another key while still
	// holding debt (the table was too small for the clients it saw).
	Evicted uint64
}

// rrlClass is the kind of an answer; answers of one class, client
// network and name share a bucket.
type rrlClass uint8

const (
	rrlPositive rrlClass = iota + 1 // per query name and type
	rrlNoData                       // per query name
	rrlNXDomain                     // per zone
	rrlReferral                     // per delegation
	rrlWildcard                     // per closest encloser (and type)
	rrlError                        // all names together
)

var rrlClassNames = [...]string{rrlPositive: "positive", rrlNoData: "nodata", rrlNXDomain: "nxdomain",
	rrlReferral: "referral", rrlWildcard: "wildcard", rrlError: "error"}

func (c rrlClass) String() string {
	if int(c) < len(rrlClassNames) && rrlClassNames[c] != "" {
		return rrlClassNames[c]
	}
	return "unknown"
}

// rrlKind is what a bucket is kept by: the class, and the name (wire
// format, any case: name, or wild for a wildcard's closest encloser) and
// type.
type rrlKind struct {
	class rrlClass
	name  []byte
	wild  string
	qtype uint16
}

// rrlClassify returns the kind of resp, the response to q whose lookup
// left a. a is read only for answers from a lookup (NOERROR, NXDOMAIN of
// class IN): an error, or a CH answer, may come from a request that never
// reached one.
func rrlClassify(resp []byte, q *dnswire.Query, a *zone.Answer) rrlKind {
	if len(resp) < 12 {
		return rrlKind{class: rrlError}
	}
	switch int(resp[3] & 0x0f) {
	case dnsconst.RcodeSuccess:
	case dnsconst.RcodeNXDomain:
		if a.Zone != nil {
			return rrlKind{class: rrlNXDomain, name: a.Zone.Origin()}
		}
		return rrlKind{class: rrlNXDomain}
	default:
		return rrlKind{class: rrlError}
	}
	if q.Qclass != dnsconst.ClassINET {
		// A CH TXT answer (id.server, version.bind) comes from no
		// lookup: a is what the previous query left.
		return rrlKind{class: rrlPositive, name: q.Qname, qtype: q.Qtype}
	}
	switch {
	case a.Wildcard != "":
		// Names a wildcard stands in for are as many as a client wants:
		// they share the bucket of the wildcard's closest encloser.
		if len(a.Answer) == 0 {
			return rrlKind{class: rrlNoData, wild: a.Wildcard}
		}
		return rrlKind{class: rrlWildcard, wild: a.Wildcard, qtype: q.Qtype}
	case len(a.Answer) > 0:
		return rrlKind{class: rrlPositive, name: q.Qname, qtype: q.Qtype}
	case !a.Authoritative && len(a.Authority) > 0 && a.Authority[0].Owner != nil:
		return rrlKind{class: rrlReferral, name: a.Authority[0].Owner}
	default:
		return rrlKind{class: rrlNoData, name: q.Qname}
	}
}

// A bucket is one 64-bit word, updated with compare-and-swap (no lock):
//
//	bits 63..44  the key's fingerprint (never 0; 0: a free bucket)
//	bits 43..8   the theoretical arrival time (generic cell rate
//	             algorithm) in µs since the table's epoch, modulo 2^36
//	             (19 hours): an answer costs 1/rate seconds, and a
//	             bucket may run up to one second ahead of the clock
//	             before it limits, at most the window ahead
//	bits 7..4    the second (2^20 µs, modulo 16) the bucket last told
//	             the log it limits
//	bits 3..0    the limited answers so far modulo the slip
//
// Eight buckets fill a 64-octet cache line; a key may take any bucket of
// the line its hash names, so an answer touches one line of the table.
const (
	rrlLineSize = 8
	rrlTATBits  = 36
	rrlFPShift  = 8 + rrlTATBits
	rrlTATMask  = 1<<rrlTATBits - 1
	rrlSecond   = int64(time.Second / time.Microsecond)
)

type rrlLine [rrlLineSize]atomic.Uint64

// rrlNote tells the log that a bucket of prefix limits.
type rrlNote struct {
	prefix netip.Prefix
	class  rrlClass
	at     int64
}

// rrlVerdict is what happens to an answer.
type rrlVerdict uint8

const (
	rrlPass rrlVerdict = iota
	rrlSlip
	rrlDrop
)

// rateLimiter is the table of buckets shared by a server's UDP readers.
type rateLimiter struct {
	cfg   RRLConfig
	epoch time.Time
	seed0 uint64
	seed1 uint64
	mask  uint64
	lines []rrlLine
	// mask4 and mask6 keep the network part of an address (As16).
	mask4, mask6 [2]uint64
	interval     [rrlError + 1]int64 // µs per answer, by class
	window       int64               // µs
	notes        chan rrlNote

	limited, slipped, dropped, evicted atomic.Uint64
}

// rrlNoteQueue is how many notes wait for the logger; more are dropped.
const rrlNoteQueue = 1024

// newRateLimiter returns the limiter for c (already with defaults), or
// nil when rate limiting is disabled.
func newRateLimiter(c RRLConfig) *rateLimiter {
	if c.Disabled {
		return nil
	}
	size := uint64(1)
	for size*rrlLineSize < uint64(c.TableSize) {
		size <<= 1
	}
	r := &rateLimiter{
		cfg: c, epoch: c.Clock.Now(), seed0: rand.Uint64(), seed1: rand.Uint64() | 1, mask: size - 1,
		lines: make([]rrlLine, size), mask4: prefixMask(96 + c.IPv4Prefix), mask6: prefixMask(c.IPv6Prefix),
		window: int64(c.Window / time.Microsecond), notes: make(chan rrlNote, rrlNoteQueue),
	}
	for cl := rrlPositive; cl <= rrlError; cl++ {
		rate := c.ResponsesPerSecond
		switch cl {
		case rrlNXDomain:
			rate = c.NXDomainsPerSecond
		case rrlError:
			rate = c.ErrorsPerSecond
		}
		r.interval[cl] = (rrlSecond + int64(rate) - 1) / int64(rate)
	}
	return r
}

// now is the limiter's time, read once per batch of queries.
func (r *rateLimiter) now() int64 { return int64(r.cfg.Clock.Now().Sub(r.epoch)) }

// exempt reports whether a client is never limited.
func (r *rateLimiter) exempt(from netip.Addr) bool {
	for _, p := range r.cfg.Exempt {
		if p.Contains(from) {
			return true
		}
	}
	return false
}

// prefix returns the network from is grouped in.
func (r *rateLimiter) prefix(from netip.Addr) netip.Prefix {
	bits := r.cfg.IPv6Prefix
	if from.Is4() {
		bits = r.cfg.IPv4Prefix
	}
	p, _ := from.Prefix(bits)
	return p
}

// key hashes a bucket's identity: the client's network (from, masked to
// its prefix), the class and the name (without regard to case) and type.
// The hash is keyed with a secret seed, so that a client cannot choose
// names that share a bucket with another's.
func (r *rateLimiter) key(from netip.Addr, k rrlKind) uint64 {
	a := from.As16()
	hi, lo := binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(a[8:])
	m := &r.mask6
	if from.Is4() {
		m = &r.mask4
	}
	hi, lo = hi&m[0], lo&m[1]
	h := rrlMix(r.seed0^hi, r.seed1^lo)
	h = rrlMix(h^m[0]^m[1]<<7^uint64(k.class)<<16^uint64(k.qtype), r.seed1)
	h = rrlHashName(h, r.seed1, k.name)
	return rrlHashName(h, r.seed1, k.wild)
}

// prefixMask returns the mask of the first bits of a 128-bit address
// (an IPv4 address as the last 32 bits, after 96 bits of the v4-mapped
// form).
func prefixMask(bits int) [2]uint64 {
	var m [2]uint64
	for i := range 2 {
		n := min(max(bits-64*i, 0), 64)
		if n > 0 {
			m[i] = ^uint64(0) << (64 - n)
		}
	}
	return m
}

// rrlMix is the 64x64->128 bit multiply folded to 64 bits (wyhash's mum).
func rrlMix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// rrlFold sets bit 5 of every octet: upper and lower case letters hash
// alike (so do a few other octets, which only makes rare names share a
// bucket).
const rrlFold = 0x2020202020202020

// rrlHashName mixes name into h, eight octets at a time.
func rrlHashName[T string | []byte](h, seed uint64, name T) uint64 {
	for len(name) >= 8 {
		w := uint64(name[0]) | uint64(name[1])<<8 | uint64(name[2])<<16 | uint64(name[3])<<24 |
			uint64(name[4])<<32 | uint64(name[5])<<40 | uint64(name[6])<<48 | uint64(name[7])<<56
		h = rrlMix(h^(w|rrlFold), seed^0xa0761d6478bd642f)
		name = name[8:]
	}
	if len(name) > 0 {
		var w uint64
		for i := 0; i < len(name); i++ {
			w |= uint64(name[i]) << (8 * i)
		}
		h = rrlMix(h^(w|rrlFold), seed^0xe7037ed1a0b428db^uint64(len(name)))
	}
	return h
}

// account charges one answer of class c to the bucket key at now (ns
// since the epoch) and says what to do with it.
func (r *rateLimiter) account(now int64, key uint64, c rrlClass, from netip.Addr) rrlVerdict {
	line := &r.lines[key&r.mask]
	fp := key&^(1<<rrlFPShift-1) | 1<<rrlFPShift
	us := now / int64(time.Microsecond)
	for range 8 {
		// The bucket of the key, or a free one, or one whose debt has
		// run out (as good as new), or else the one with the least debt.
		var b *atomic.Uint64
		var old uint64
		least := int64(-1)
		for i := range line {
			w := line[i].Load()
			if w&^(1<<rrlFPShift-1) == fp {
				b, old, least = &line[i], w, -1
				break
			}
			if d := r.debt(w, us); least != 0 && (least < 0 || d < least) {
				b, old, least = &line[i], w, d
			}
		}
		debt := r.debt(old, us)
		sec := uint64(us>>20) & 0x0f
		var cnt, noted uint64
		if least < 0 {
			cnt, noted = old&0x0f, old>>4&0x0f
		} else {
			debt, noted = 0, sec^8 // a new bucket has told nothing
		}
		note := false
		ok := debt < rrlSecond
		debt = min(debt+r.interval[c], r.window)
		v := rrlPass
		if !ok {
			v = rrlDrop
			if s := uint64(r.cfg.Slip); r.cfg.Slip > 0 {
				cnt = (cnt + 1) % s
				if cnt == 1%s {
					v = rrlSlip
				}
			}
			// Tell the log about once a second while the bucket
			// limits.
			note = noted != sec
			noted = sec
		}
		w := fp | uint64(us+debt)&rrlTATMask<<8 | noted<<4 | cnt
		if !b.CompareAndSwap(old, w) {
			continue
		}
		if least > 0 {
			r.evicted.Add(1)
		}
		if v != rrlPass {
			r.limited.Add(1)
			if v == rrlSlip {
				r.slipped.Add(1)
			} else {
				r.dropped.Add(1)
			}
			if note {
				select {
				case r.notes <- rrlNote{prefix: r.prefix(from), class: c, at: now}:
				default:
				}
			}
		}
		return v
	}
	return rrlPass // the line is too busy to account: let it be
}

// debt returns how far ahead of us (µs) the bucket w runs, 0 for a free
// bucket or one whose debt has run out, at most the window. Readers read
// the clock once per batch, so another may have written a time a little
// ahead of us: up to rrlSkew beyond the window is such a bucket; further
// is a bucket untouched since its clock wrapped around (19 hours), which
// owes nothing.
func (r *rateLimiter) debt(w uint64, us int64) int64 {
	if w == 0 {
		return 0
	}
	d := int64((w>>8-uint64(us))<<(64-rrlTATBits)) >> (64 - rrlTATBits)
	if d <= 0 || d > r.window+rrlSkew {
		return 0
	}
	return min(d, r.window)
}

// rrlSkew is how far apart the clocks of two readers may be (µs).
const rrlSkew = 60 * rrlSecond

// limit returns what to send for resp, the UDP response to h's last
// request from from: resp itself, resp truncated to its header and
// question with TC set (a slip), or nil. now is the limiter's time
// (now()). cookie says the client showed a valid server cookie (RFC
// 7873): it proved it receives our answers at its address, so it is not
// limited.
func (r *rateLimiter) limit(h *handler, resp []byte, from netip.Addr, now int64, cookie bool) []byte {
	if cookie || r.exempt(from) {
		return resp
	}
	k := rrlClassify(resp, &h.q, &h.a)
	switch r.account(now, r.key(from, k), k.class, from) {
	case rrlSlip:
		if h.st != nil {
			h.st.c.slipped++
		}
		return truncateResponse(resp)
	case rrlDrop:
		if h.st != nil {
			h.st.c.dropped++
		}
		return nil
	}
	return resp
}

// truncateResponse cuts resp in place to its header and question with
// TC set and every other section empty.
func truncateResponse(resp []byte) []byte {
	if len(resp) < 12 {
		return nil
	}
	n := 12
	qd := binary.BigEndian.Uint16(resp[4:6])
	if qd == 1 {
		if end := questionEnd(resp, 12); end > 0 {
			n = end
		} else {
			qd = 0
		}
	} else {
		qd = 0
	}
	resp[2] |= 0x02 // TC
	binary.BigEndian.PutUint16(resp[4:6], qd)
	clear(resp[6:12])
	return resp[:n]
}

// questionEnd returns where the question starting at off ends (its name
// is uncompressed, as echoed), or 0 if it does not fit.
func questionEnd(m []byte, off int) int {
	for off < len(m) {
		l := int(m[off])
		if l == 0 {
			off++
			if off+4 > len(m) {
				return 0
			}
			return off + 4
		}
		if l&0xc0 != 0 {
			return 0
		}
		off += 1 + l
	}
	return 0
}

// stats returns the counters.
func (r *rateLimiter) stats() RRLStats {
	return RRLStats{Limited: r.limited.Load(), Slipped: r.slipped.Load(), Dropped: r.dropped.Load(), Evicted: r.evicted.Load()}
}

// serverCookieValid reports whether the request h parsed last carried a
// valid server cookie (RFC 7873 section 5.2, checked in cookie.go): the
// client showed it receives what is sent to its address, so it is not
// spoofed and not rate limited. Read right after serve, before the next
// request of the batch is parsed into h.q.
func (h *handler) serverCookieValid() bool { return h.q.CookieValid }
