package dnsserver

import (
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/clock"
	"github.com/stratusdns/stratus/internal/zone"
	"github.com/stratusdns/stratus/internal/zone/zonetest"
)

// rrlFixture is a handler answering example.com. and a limiter on a fake
// clock.
type rrlFixture struct {
	h   *handler
	r   *rateLimiter
	clk *clock.Fake
}

func newRRLFixture(t testing.TB, cfg RRLConfig) *rrlFixture {
	t.Helper()
	var src atomic.Pointer[zone.Snapshot]
	src.Store(zonetest.Build(t, map[string]string{"example.com.": zonetest.ExampleCom}))
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	cfg.Clock = clk
	c, err := cfg.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	return &rrlFixture{h: newHandler(&src, nil, 1232, false), r: newRateLimiter(c), clk: clk}
}

func query(t testing.TB, name string, qtype uint16) []byte {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.SetEdns0(1232, false)
	pkt, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return pkt
}

// ask serves one query from `from` and returns what is sent back: the
// answer, a slip or nil.
func (f *rrlFixture) ask(t testing.TB, from, name string, qtype uint16) []byte {
	t.Helper()
	resp := f.h.serve(query(t, name, qtype), netip.MustParseAddr(from), false)
	if resp == nil {
		t.Fatalf("%s %d: no response", name, qtype)
	}
	return f.r.limit(f.h, resp, netip.MustParseAddr(from), f.r.now(), false)
}

// verdict reduces what ask returned to a letter: A(nswer), S(lip) or
// D(rop).
func verdict(t testing.TB, out []byte) byte {
	t.Helper()
	if out == nil {
		return 'D'
	}
	m := new(dns.Msg)
	if err := m.Unpack(out); err != nil {
		t.Fatalf("unpack: %v", err)
	}
	if m.Truncated {
		if len(m.Answer)+len(m.Ns)+len(m.Extra) != 0 {
			t.Fatalf("slip with records: %v", m)
		}
		return 'S'
	}
	return 'A'
}

func TestRRLClassify(t *testing.T) {
	f := newRRLFixture(t, RRLConfig{})
	for _, c := range []struct {
		qname string
		qtype uint16
		class rrlClass
		name  string // the name the bucket is kept by
		ktype uint16
	}{
		{"www.example.com.", dns.TypeA, rrlPositive, "www.example.com.", dns.TypeA},
		{"WWW.Example.COM.", dns.TypeAAAA, rrlPositive, "www.example.com.", dns.TypeAAAA},
		{"chain.example.com.", dns.TypeA, rrlPositive, "chain.example.com.", dns.TypeA},
		{"www.example.com.", dns.TypeTXT, rrlNoData, "www.example.com.", 0},
		{"b.c.example.com.", dns.TypeA, rrlNoData, "b.c.example.com.", 0}, // empty non-terminal
		{"nope.example.com.", dns.TypeA, rrlNXDomain, "example.com.", 0},
		{"a.b.nope.example.com.", dns.TypeMX, rrlNXDomain, "example.com.", 0},
		{"host.sub.example.com.", dns.TypeA, rrlReferral, "sub.example.com.", 0},
		{"x.y.SUB.example.com.", dns.TypeAAAA, rrlReferral, "sub.example.com.", 0},
		{"x.wild.example.com.", dns.TypeA, rrlWildcard, "wild.example.com.", dns.TypeA},
		{"other.wild.example.com.", dns.TypeMX, rrlWildcard, "wild.example.com.", dns.TypeMX},
		{"x.wild.example.com.", dns.TypeTXT, rrlNoData, "wild.example.com.", 0},
		{"exists.wild.example.com.", dns.TypeTXT, rrlPositive, "exists.wild.example.com.", dns.TypeTXT},
		{"www.elsewhere.test.", dns.TypeA, rrlError, "", 0}, // REFUSED
		{"example.com.", dns.TypeOPT, rrlError, "", 0},      // FORMERR
	} {
		resp := f.h.serve(query(t, c.qname, c.qtype), loopback, false)
		k := rrlClassify(resp, &f.h.q, &f.h.a)
		got := string(k.name) + k.wild
		want := ""
		if c.name != "" {
			want = string(mustWire(t, c.name))
		}
		if k.class != c.class || !zone.EqualNames([]byte(got), []byte(want)) || k.qtype != c.ktype {
			t.Errorf("%s %s: got %v %q %d, want %v %q %d", c.qname, dns.TypeToString[c.qtype],
				k.class, got, k.qtype, c.class, want, c.ktype)
		}
	}
}

func mustWire(t testing.TB, name string) []byte {
	t.Helper()
	buf := make([]byte, 256)
	n, err := dns.PackDomainName(name, buf, 0, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	return buf[:n]
}

// TestRRLBuckets follows one bucket (rate 10 a second, slip 2) through a
// burst, the debt it leaves and the window.
func TestRRLBuckets(t *testing.T) {
	f := newRRLFixture(t, RRLConfig{ResponsesPerSecond: 10, Window: 3 * time.Second})
	run := func(n int) string {
		var out []byte
		for range n {
			out = append(out, verdict(t, f.ask(t, "192.0.2.1", "www.example.com.", dns.TypeA)))
		}
		return string(out)
	}
	steps := []struct {
		step time.Duration
		n    int
		want string
	}{
		// A burst of one second's worth passes, then every second
		// limited answer slips.
		{0, 14, "AAAAAAAAAASDSD"},
		// Each answer, limited or not, costs 100ms: 14 of them put the
		// bucket 1.4s ahead. After 500ms it is 0.9s ahead: one passes.
		{500 * time.Millisecond, 2, "AS"},
		// The flood goes on: the debt stops at the window (3s).
		{0, 40, "DSDSDSDSDSDSDSDSDSDSDSDSDSDSDSDSDSDSDSDS"},
		// 1.9s later the bucket is 1.1s ahead: still limited (and that
		// costs another 100ms), 300ms later it passes again.
		{1900 * time.Millisecond, 1, "D"},
		{300 * time.Millisecond, 1, "A"},
		// A bucket whose debt has run out has a full second's burst.
		{10 * time.Second, 11, "AAAAAAAAAAS"},
	}
	for i, s := range steps {
		f.clk.Step(s.step)
		if got := run(s.n); got != s.want {
			t.Fatalf("step %d: got %s, want %s", i, got, s.want)
		}
	}
	st := f.r.stats()
	if st.Limited != st.Slipped+st.Dropped || st.Slipped == 0 || st.Dropped == 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestRRLClassRates: NXDOMAIN and errors have their own rates, and
// answers of different classes or names do not share a bucket.
func TestRRLClassRates(t *testing.T) {
	f := newRRLFixture(t, RRLConfig{ResponsesPerSecond: 5, NXDomainsPerSecond: 2, ErrorsPerSecond: 1, Slip: -1})
	count := func(name string, qtype uint16, n int) int {
		passed := 0
		for range n {
			if f.ask(t, "198.51.100.7", name, qtype) != nil {
				passed++
			}
		}
		return passed
	}
	for _, c := range []struct {
		name  string
		qtype uint16
		want  int
	}{
		{"www.example.com.", dns.TypeA, 5},
		{"www.example.com.", dns.TypeAAAA, 5}, // another type, another bucket
		{"WWW.example.com.", dns.TypeA, 0},    // the same bucket
		{"nope.example.com.", dns.TypeA, 2},
		{"nope2.example.com.", dns.TypeA, 0}, // NXDOMAIN: per zone
		{"a.wild.example.com.", dns.TypeA, 5},
		{"b.wild.example.com.", dns.TypeA, 0}, // wildcard: per closest encloser
		{"host.sub.example.com.", dns.TypeA, 5},
		{"other.sub.example.com.", dns.TypeA, 0}, // referral: per delegation
		{"www.elsewhere.test.", dns.TypeA, 1},
		{"www.other.test.", dns.TypeMX, 0}, // errors: all names together
	} {
		if got := count(c.name, c.qtype, 10); got != c.want {
			t.Errorf("%s %s: %d of 10 answered, want %d", c.name, dns.TypeToString[c.qtype], got, c.want)
		}
	}
}

func TestRRLSlip(t *testing.T) {
	for _, c := range []struct {
		slip int
		want string
	}{
		{0, "AASDSDSD"}, // default 2
		{1, "AASSSSSS"},
		{3, "AASDDSDD"},
		{-1, "AADDDDDD"},
	} {
		f := newRRLFixture(t, RRLConfig{ResponsesPerSecond: 2, Slip: c.slip})
		var got []byte
		for range len(c.want) {
			got = append(got, verdict(t, f.ask(t, "192.0.2.1", "www.example.com.", dns.TypeA)))
		}
		if string(got) != c.want {
			t.Errorf("slip %d: got %s, want %s", c.slip, got, c.want)
		}
	}
}

// TestRRLSlipMessage: a slip is the header and the question, TC set, no
// record at all, with the query's ID and rcode.
func TestRRLSlipMessage(t *testing.T) {
	f := newRRLFixture(t, RRLConfig{ResponsesPerSecond: 1, Slip: 1})
	f.ask(t, "192.0.2.1", "mx.example.com.", dns.TypeMX)
	out := f.ask(t, "192.0.2.1", "mx.example.com.", dns.TypeMX)
	m := new(dns.Msg)
	if err := m.Unpack(out); err != nil {
		t.Fatal(err)
	}
	if !m.Truncated || !m.Response || !m.Authoritative || m.Rcode != dns.RcodeSuccess || len(m.Question) != 1 ||
		m.Question[0].Name != "mx.example.com." || len(m.Answer)+len(m.Ns)+len(m.Extra) != 0 {
		t.Fatalf("slip: %v", m)
	}
	if want := 12 + len("mx.example.com.") + 1 + 4; len(out) != want {
		t.Fatalf("slip is %d octets, want %d", len(out), want)
	}
}

// TestRRLPrefixes: clients of one network share buckets; the prefix
// lengths are configurable.
func TestRRLPrefixes(t *testing.T) {
	for _, c := range []struct {
		cfg          RRLConfig
		first, other string
		shared       bool
	}{
		{RRLConfig{}, "192.0.2.1", "192.0.2.254", true},
		{RRLConfig{}, "192.0.2.1", "192.0.3.1", false},
		{RRLConfig{}, "2001:db8:0:ff::1", "2001:db8:0:aa::2", true},
		{RRLConfig{}, "2001:db8:0:ff::1", "2001:db8:0:100::1", false},
		{RRLConfig{IPv4Prefix: 32}, "192.0.2.1", "192.0.2.2", false},
		{RRLConfig{IPv4Prefix: 16}, "192.0.2.1", "192.0.99.2", true},
		{RRLConfig{IPv6Prefix: 48}, "2001:db8:0:ff::1", "2001:db8:0:100::1", true},
		{RRLConfig{}, "::ffff:192.0.2.1", "192.0.2.7", false}, // peers come unmapped; a mapped one is IPv6
	} {
		c.cfg.ResponsesPerSecond = 3
		c.cfg.Slip = -1
		f := newRRLFixture(t, c.cfg)
		for range 3 {
			f.ask(t, c.first, "www.example.com.", dns.TypeA)
		}
		limited := f.ask(t, c.other, "www.example.com.", dns.TypeA) == nil
		if limited != c.shared {
			t.Errorf("%+v: %s after %s limited: %v, want %v", c.cfg, c.other, c.first, limited, c.shared)
		}
	}
}

// TestRRLExempt: exempt networks and clients with a valid server cookie
// are never limited; others are.
func TestRRLExempt(t *testing.T) {
	f := newRRLFixture(t, RRLConfig{ResponsesPerSecond: 1, Slip: -1,
		Exempt: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/25"), netip.MustParsePrefix("2001:db8::/32")}})
	for _, c := range []struct {
		from   string
		cookie bool
		want   bool // answered every time
	}{
		{"192.0.2.1", false, true},
		{"192.0.2.127", false, true},
		{"192.0.2.128", false, false},
		{"2001:db8:1::1", false, true},
		{"2001:db9::1", false, false},
		{"203.0.113.9", true, true},
		{"203.0.113.10", false, false},
	} {
		from := netip.MustParseAddr(c.from)
		all := true
		for range 5 {
			resp := f.h.serve(query(t, "www.example.com.", dns.TypeA), from, false)
			if f.r.limit(f.h, resp, from, f.r.now(), c.cookie) == nil {
				all = false
			}
		}
		if all != c.want {
			t.Errorf("%s cookie %v: all answered %v, want %v", c.from, c.cookie, all, c.want)
		}
	}
}

// TestRRLTableBound: the table keeps its size whatever the number of
// clients, and a flood amid a crowd of one-off clients stays limited: a
// key evicts the bucket with the least debt. A one-off client is limited
// only if its key's 20-bit fingerprint is the flooder's in the same line
// (one run in about 80 here, with 8 lines; 2 such clients in a run: one
// in 14,000).
func TestRRLTableBound(t *testing.T) {
	f := newRRLFixture(t, RRLConfig{ResponsesPerSecond: 5, Slip: -1, TableSize: 64})
	if n := len(f.r.lines) * rrlLineSize; n != 64 {
		t.Fatalf("%d buckets, want 64", n)
	}
	flooder := netip.MustParseAddr("198.51.100.1")
	pkt := query(t, "www.example.com.", dns.TypeA)
	passed, oneOffs := 0, 0
	for i := range 100000 {
		other := netip.AddrFrom4([4]byte{10 + byte(i>>16), byte(i >> 8), byte(i), 1})
		resp := f.h.serve(pkt, other, false)
		if out := f.r.limit(f.h, resp, other, f.r.now(), false); out == nil {
			if oneOffs++; oneOffs > 1 {
				t.Fatalf("one-off client %v limited (%d), stats %+v", other, i, f.r.stats())
			}
		}
		resp = f.h.serve(pkt, flooder, false)
		if f.r.limit(f.h, resp, flooder, f.r.now(), false) != nil {
			passed++
		}
		if i%1000 == 999 {
			f.clk.Step(time.Millisecond)
		}
	}
	// 100 ms of flood at 5 a second: the first second's burst only.
	if passed > 5 {
		t.Fatalf("flooder got %d answers through", passed)
	}
	if n := len(f.r.lines) * rrlLineSize; n != 64 {
		t.Fatalf("%d buckets, want 64", n)
	}
	if f.r.stats().Evicted == 0 {
		t.Fatal("no eviction counted")
	}
}

// TestRRLAllocations: accounting an answer allocates nothing, whatever
// the verdict.
func TestRRLAllocations(t *testing.T) {
	f := newRRLFixture(t, RRLConfig{ResponsesPerSecond: 1})
	counted(f.h)
	from := netip.MustParseAddr("192.0.2.1")
	for _, name := range []string{"www.example.com.", "nope.example.com.", "x.wild.example.com.", "host.sub.example.com."} {
		pkt := query(t, name, dns.TypeA)
		now := f.r.now()
		if n := testing.AllocsPerRun(200, func() {
			f.r.limit(f.h, f.h.serve(pkt, from, false), from, now, false)
		}); n > 0 {
			t.Errorf("%s: %v allocations per query", name, n)
		}
	}
	// The reader counted every verdict the limiter counted.
	f.h.st.publish()
	rs := f.r.stats()
	if d, s := f.h.st.pub.dropped, f.h.st.pub.slipped; d != rs.Dropped || s != rs.Slipped || d == 0 || s == 0 {
		t.Errorf("reader counted %d dropped, %d slipped; limiter %+v", d, s, rs)
	}
}

func TestRRLConfigErrors(t *testing.T) {
	for _, c := range []struct {
		cfg  RRLConfig
		want string
	}{
		{RRLConfig{ResponsesPerSecond: -1}, "rates must not be negative"},
		{RRLConfig{Window: time.Millisecond}, "window 1ms is shorter than 1s"},
		{RRLConfig{Slip: 11}, "slip 11 is over 10"},
		{RRLConfig{IPv4Prefix: 33}, "ipv4 prefix /33 is outside 1..32"},
		{RRLConfig{IPv6Prefix: -1}, "ipv6 prefix /-1 is outside 1..128"},
		{RRLConfig{TableSize: 3}, "table size 3 is outside"},
		{RRLConfig{TableSize: MaxRRLTableSize + 1}, "table size"},
		{RRLConfig{Exempt: []netip.Prefix{{}}}, "exempt network"},
	} {
		_, err := c.cfg.withDefaults()
		if err == nil || !contains(err.Error(), c.want) {
			t.Errorf("%+v: got %v, want %q", c.cfg, err, c.want)
		}
	}
	if _, err := (&RRLConfig{Disabled: true, ResponsesPerSecond: -1}).withDefaults(); err != nil {
		t.Errorf("disabled: %v", err)
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// TestRRLNotes: a limiting bucket tells the log about once a second,
// with its client's network and class, however many answers it limits.
func TestRRLNotes(t *testing.T) {
	f := newRRLFixture(t, RRLConfig{ResponsesPerSecond: 10})
	drain := func() []rrlNote {
		var out []rrlNote
		for {
			select {
			case n := <-f.r.notes:
				out = append(out, n)
			default:
				return out
			}
		}
	}
	for range 10 {
		f.ask(t, "192.0.2.9", "nope.example.com.", dns.TypeA)
	}
	if n := drain(); len(n) != 0 {
		t.Fatalf("notes before any limit: %v", n)
	}
	for step := range 5 {
		for range 1000 {
			f.ask(t, "192.0.2.9", "nope.example.com.", dns.TypeA)
		}
		n := drain()
		if len(n) == 0 || len(n) > 2 {
			t.Fatalf("step %d: %d notes for 1000 limited answers in a second, want 1 or 2", step, len(n))
		}
		if n[0].prefix != netip.MustParsePrefix("192.0.2.0/24") || n[0].class != rrlNXDomain {
			t.Fatalf("note %+v", n[0])
		}
		f.clk.Step(1100 * time.Millisecond) // the bucket's seconds are 2^20 µs
	}
}

// TestRRLReadersClocks: readers read the clock once per batch, so one may
// account with a time a little behind another's; a bucket another reader
// pushed to the window must not look free to it.
func TestRRLReadersClocks(t *testing.T) {
	f := newRRLFixture(t, RRLConfig{ResponsesPerSecond: 10, Slip: -1, Window: 2 * time.Second})
	from := netip.MustParseAddr("192.0.2.1")
	pkt := query(t, "www.example.com.", dns.TypeA)
	late := f.r.now() // a reader that read the clock before the others
	f.clk.Step(500 * time.Millisecond)
	for range 100 { // the other reader floods: the bucket reaches the window
		f.r.limit(f.h, f.h.serve(pkt, from, false), from, f.r.now(), false)
	}
	for i := range 10 {
		if f.r.limit(f.h, f.h.serve(pkt, from, false), from, late, false) != nil {
			t.Fatalf("answer %d of the late reader passed", i)
		}
	}
}

// FuzzTruncateResponse: a slip made of any message is its header and at
// most its first question, TC set, and never reads past the message.
func FuzzTruncateResponse(f *testing.F) {
	fx := newRRLFixture(f, RRLConfig{})
	for _, name := range []string{"www.example.com.", "nope.example.com.", "x.wild.example.com."} {
		f.Add(append([]byte(nil), fx.h.serve(query(f, name, dns.TypeA), loopback, false)...))
	}
	f.Add([]byte{0, 1, 0x84, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0x0c})
	f.Fuzz(func(t *testing.T, m []byte) {
		in := append([]byte(nil), m...)
		out := truncateResponse(in)
		if len(m) < 12 {
			if out != nil {
				t.Fatalf("slip of a %d-octet message", len(m))
			}
			return
		}
		if len(out) < 12 || len(out) > len(m) || out[2]&0x02 == 0 {
			t.Fatalf("slip %x of %x", out, m)
		}
		for i := 6; i < 12; i++ {
			if out[i] != 0 {
				t.Fatalf("slip %x has records", out)
			}
		}
	})
}

// TestRRLClassifyChaos: a CH TXT answer (id.server, version.bind) comes
// from no lookup, so it is kept by its own name and type, whatever the
// reader's previous lookup left in the handler.
func TestRRLClassifyChaos(t *testing.T) {
	h := edgeHandler(t, Config{Identity: "ns1", Version: "1"})
	for _, prev := range []string{"x.wild.example.com.", "host.sub.example.com.", "nope.example.com."} {
		h.serve(query(t, prev, dns.TypeA), loopback, false)
		m := new(dns.Msg)
		m.SetQuestion("id.server.", dns.TypeTXT)
		m.Question[0].Qclass = dns.ClassCHAOS
		pkt, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		resp := h.serve(pkt, loopback, false)
		k := rrlClassify(resp, &h.q, &h.a)
		if k.class != rrlPositive || k.wild != "" || !zone.EqualNames(k.name, mustWire(t, "id.server.")) || k.qtype != dns.TypeTXT {
			t.Errorf("after %s: id.server classified %v %q%q %d, want positive id.server. TXT", prev, k.class, k.name, k.wild, k.qtype)
		}
	}
}
