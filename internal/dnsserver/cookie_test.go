package dnsserver

import (
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/dnswire"
	"github.com/stratusdns/stratus/internal/zone"
	"github.com/stratusdns/stratus/internal/zone/zonetest"
)

// stepClock is a clock that tests set.
type stepClock struct{ t time.Time }

func (c *stepClock) Now() time.Time  { return c.t }
func (c *stepClock) set(unix uint32) { c.t = time.Unix(int64(unix), 0) }

// edgeHandler returns a handler for example.com. with cookies and identity
// as cfg says, as the server makes one.
func edgeHandler(t testing.TB, cfg Config) *handler {
	t.Helper()
	var src atomic.Pointer[zone.Snapshot]
	src.Store(zonetest.Build(t, map[string]string{"example.com.": zonetest.ExampleCom}))
	e, err := newEdge(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{src: &src, cfg: Config{UDPSize: 1232}, edge: e}
	return s.handler(nil, nil)
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// cookieQuery returns a query for www.example.com. A with the cookie (hex:
// client cookie, then the server cookie if any).
func cookieQuery(t testing.TB, cookie string) []byte {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion("www.example.com.", dns.TypeA)
	m.SetEdns0(1232, false)
	if cookie != "" {
		m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: cookie})
	}
	pkt, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return pkt
}

// replyCookie returns the COOKIE option of a response, in hex ("" none).
func replyCookie(t testing.TB, out []byte) string {
	t.Helper()
	r := new(dns.Msg)
	if err := r.Unpack(out); err != nil {
		t.Fatal(err)
	}
	if r.Rcode != dns.RcodeSuccess || len(r.Answer) == 0 {
		t.Fatalf("not an answer:\n%v", r)
	}
	cookie := ""
	if o := r.IsEdns0(); o != nil {
		for _, opt := range o.Option {
			if c, ok := opt.(*dns.EDNS0_COOKIE); ok {
				if cookie != "" {
					t.Fatal("two COOKIE options")
				}
				cookie = c.Cookie
			}
		}
	}
	return cookie
}

// The secrets of RFC 9018 appendix A.
const (
	rfcSecret   = "e5e973e5a6b2a43f48e7dc849e37bfcf" // A.1 to A.3
	rfcSecretA4 = "445536bcd2513298075a5d379663c962" // A.4, after the rollover
	rfcOldA4    = "dd3bdf9344b678b185a6f5cb60fca715" // A.4, before it
)

// TestCookieRFC9018Vectors runs the examples of RFC 9018 appendix A
// through the handler: the server cookie each response carries, byte for
// byte, and whether the server cookie each query sent back is valid.
func TestCookieRFC9018Vectors(t *testing.T) {
	for _, tc := range []struct {
		name             string
		secret, previous string
		from             string
		query            string // client cookie, then the server cookie sent
		now              uint32
		valid            bool
		reply            string
	}{
		{name: "A.1, learning a new server cookie", secret: rfcSecret, from: "198.51.100.100",
			query: "2464c4abcf10c957", now: 1559731985,
			reply: "2464c4abcf10c957010000005cf79f111f8130c3eee29480"},
		{name: "A.1 from the IPv4-mapped address of a dual-stack socket", secret: rfcSecret, from: "::ffff:198.51.100.100",
			query: "2464c4abcf10c957", now: 1559731985,
			reply: "2464c4abcf10c957010000005cf79f111f8130c3eee29480"},
		{name: "A.2, the same client 40 minutes later: valid, renewed", secret: rfcSecret, from: "198.51.100.100",
			query: "2464c4abcf10c957010000005cf79f111f8130c3eee29480", now: 1559734385, valid: true,
			reply: "2464c4abcf10c957010000005cf7a871d4a564a1442aca77"},
		{name: "A.1's cookie a minute later: valid, sent back as it is", secret: rfcSecret, from: "198.51.100.100",
			query: "2464c4abcf10c957010000005cf79f111f8130c3eee29480", now: 1559731985 + 60, valid: true,
			reply: "2464c4abcf10c957010000005cf79f111f8130c3eee29480"},
		{name: "A.3, another client, reserved octets set, 1h52m old: stale, a new one", secret: rfcSecret, from: "203.0.113.203",
			query: "fc93fc62807ddb8601abcdef5cf78f71a314227b6679ebf5", now: 1559734700,
			reply: "fc93fc62807ddb86010000005cf7a9acf73a7810aca2381e"},
		{name: "A.4, IPv6, made with the previous secret: valid, a new one with the new secret",
			secret: rfcSecretA4, previous: rfcOldA4, from: "2001:db8:220:1:59de:d0f4:8769:82b8",
			query: "22681ab97d52c298010000005cf7c57926556bd0934c72f8", now: 1559741961, valid: true,
			reply: "22681ab97d52c298010000005cf7c609a6bb79d16625507a"},
		{name: "A.4 once the previous secret is dropped: invalid", secret: rfcSecretA4, from: "2001:db8:220:1:59de:d0f4:8769:82b8",
			query: "22681ab97d52c298010000005cf7c57926556bd0934c72f8", now: 1559741961,
			reply: "22681ab97d52c298010000005cf7c609a6bb79d16625507a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := &stepClock{}
			clk.set(tc.now)
			cfg := Config{Cookies: Cookies{Secret: unhex(t, tc.secret), Now: clk.Now}}
			if tc.previous != "" {
				cfg.Cookies.Previous = unhex(t, tc.previous)
			}
			h := edgeHandler(t, cfg)
			out := h.serve(cookieQuery(t, tc.query), netip.MustParseAddr(tc.from), false)
			if got := replyCookie(t, out); got != tc.reply {
				t.Errorf("reply cookie\n got %s\nwant %s", got, tc.reply)
			}
			if h.q.CookieValid != tc.valid {
				t.Errorf("CookieValid %v, want %v", h.q.CookieValid, tc.valid)
			}
		})
	}
}

// TestCookieWindow: a server cookie is valid from five minutes ahead of
// the server's clock to an hour behind it (RFC 9018 section 4.3), in
// serial number arithmetic across the wrap of the 32-bit timestamp.
func TestCookieWindow(t *testing.T) {
	from := netip.MustParseAddr("192.0.2.1")
	for _, made := range []uint32{1700000000, 0xFFFFFFF0, 5} {
		for _, tc := range []struct {
			offset int64
			valid  bool
		}{
			{0, true}, {1800, true}, {1801, true}, {3600, true}, {3601, false}, {1 << 20, false},
			{-300, true}, {-301, false}, {-(1 << 20), false},
		} {
			clk := &stepClock{}
			h := edgeHandler(t, Config{Cookies: Cookies{Secret: unhex(t, rfcSecret), Now: clk.Now}})
			clk.set(made)
			cookie := replyCookie(t, h.serve(cookieQuery(t, "0102030405060708"), from, false))
			clk.set(uint32(int64(made) + tc.offset))
			reply := replyCookie(t, h.serve(cookieQuery(t, cookie), from, false))
			if h.q.CookieValid != tc.valid {
				t.Errorf("made at %d, checked %+d s later: valid %v, want %v", made, tc.offset, h.q.CookieValid, tc.valid)
			}
			// Every reply carries a cookie good at the server's time.
			ts := binary.BigEndian.Uint32(unhex(t, reply)[12:16])
			if int32(uint32(int64(made)+tc.offset)-ts) > cookieRenewAfter {
				t.Errorf("made at %d, checked %+d s later: reply cookie of time %d", made, tc.offset, ts)
			}
		}
	}
}

// TestCookieBinding: a server cookie is valid only for the client cookie
// and the address it was made for, with the secret it was made with, in
// the form it was made in. An invalid one is answered normally, with a new
// server cookie that is valid (RFC 7873 section 5.2.3).
func TestCookieBinding(t *testing.T) {
	clk := &stepClock{}
	clk.set(1559731985)
	from := netip.MustParseAddr("198.51.100.100")
	const good = "2464c4abcf10c957010000005cf79f111f8130c3eee29480" // A.1
	flip := func(i int) string {
		b := unhex(t, good)
		b[i] ^= 1
		return hex.EncodeToString(b)
	}
	for _, tc := range []struct {
		name, cookie, from, secret string
	}{
		{name: "another address", cookie: good, from: "198.51.100.101"},
		{name: "an IPv6 address", cookie: good, from: "2001:db8::1"},
		{name: "another client cookie", cookie: flip(0)},
		{name: "another secret", cookie: good, secret: rfcSecretA4},
		{name: "version 2", cookie: "2464c4abcf10c957020000005cf79f111f8130c3eee29480"},
		{name: "a reserved octet changed", cookie: flip(9)},
		{name: "the timestamp changed", cookie: flip(15)},
		{name: "the hash changed", cookie: flip(23)},
		{name: "an 8-octet server cookie", cookie: good[:32]},
		{name: "a 24-octet server cookie", cookie: good + "0000000000000000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			secret := rfcSecret
			if tc.secret != "" {
				secret = tc.secret
			}
			addr := from
			if tc.from != "" {
				addr = netip.MustParseAddr(tc.from)
			}
			h := edgeHandler(t, Config{Cookies: Cookies{Secret: unhex(t, secret), Now: clk.Now}})
			reply := replyCookie(t, h.serve(cookieQuery(t, tc.cookie), addr, false))
			if h.q.CookieValid {
				t.Fatal("valid")
			}
			if reply[:16] != tc.cookie[:16] || len(reply) != 48 {
				t.Fatalf("reply cookie %s for %s", reply, tc.cookie)
			}
			replyCookie(t, h.serve(cookieQuery(t, reply), addr, false))
			if !h.q.CookieValid {
				t.Errorf("the new server cookie %s is not valid", reply)
			}
		})
	}
}

// TestCookiesOffAndAbsent: with cookies off, or a query without a cookie,
// the response carries none; over TCP, cookies work as over UDP.
func TestCookiesOffAndAbsent(t *testing.T) {
	from := netip.MustParseAddr("192.0.2.1")
	off := edgeHandler(t, Config{Cookies: Cookies{Off: true}})
	if c := replyCookie(t, off.serve(cookieQuery(t, "0102030405060708"), from, false)); c != "" || off.q.CookieValid {
		t.Errorf("cookies off: reply cookie %q, valid %v", c, off.q.CookieValid)
	}
	on := edgeHandler(t, Config{})
	if c := replyCookie(t, on.serve(cookieQuery(t, ""), from, false)); c != "" {
		t.Errorf("no cookie asked: reply cookie %q", c)
	}
	c := replyCookie(t, on.serve(cookieQuery(t, "0102030405060708"), from, true))
	if len(c) != 48 {
		t.Fatalf("TCP: reply cookie %q", c)
	}
	replyCookie(t, on.serve(cookieQuery(t, c), from, true))
	if !on.q.CookieValid {
		t.Error("TCP: the server cookie the server made is not valid")
	}
}

// TestCookieConfigErrors: a secret of the wrong length is refused.
func TestCookieConfigErrors(t *testing.T) {
	for _, c := range []Cookies{{Secret: make([]byte, 15)}, {Secret: make([]byte, 17)}, {Secret: make([]byte, 16), Previous: make([]byte, 8)}} {
		if _, err := New(Config{Listen: []string{"127.0.0.1:0"}, Cookies: c}, nil, nil, nil); err == nil {
			t.Errorf("secret of %d octets, previous of %d: accepted", len(c.Secret), len(c.Previous))
		}
	}
	if _, err := New(Config{Listen: []string{"127.0.0.1:0"}, Identity: string(make([]byte, MaxIdentity+1))}, nil, nil, nil); err == nil {
		t.Error("identity too long accepted")
	}
	if _, err := New(Config{Listen: []string{"127.0.0.1:0"}, Version: string(make([]byte, 256))}, nil, nil, nil); err == nil {
		t.Error("version of 256 octets accepted")
	}
}

// BenchmarkServeCookies answers the same query without a cookie, with a
// client cookie alone (one hash to make the server cookie), and with a
// valid server cookie (one hash to check it; sent back as it is), in one
// run, so the cost of cookies reads off the ratio.
func BenchmarkServeCookies(b *testing.B) {
	clk := &stepClock{}
	clk.set(1559731985)
	h := edgeHandler(b, Config{Cookies: Cookies{Secret: unhex(b, rfcSecret), Now: clk.Now}})
	from := netip.MustParseAddr("198.51.100.100")
	for _, bc := range []struct{ name, cookie string }{
		{"none", ""},
		{"client", "2464c4abcf10c957"},
		{"valid", "2464c4abcf10c957010000005cf79f111f8130c3eee29480"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			pkt := cookieQuery(b, bc.cookie)
			b.ReportAllocs()
			for b.Loop() {
				h.serve(pkt, from, false)
			}
		})
	}
}

// BenchmarkCookieApply is the cookie step of a query alone: making a
// server cookie for a client cookie, and checking a valid one.
func BenchmarkCookieApply(b *testing.B) {
	j, err := newCookieJar(Cookies{Secret: unhex(b, rfcSecret), Now: (&stepClock{t: time.Unix(1559731985, 0)}).Now})
	if err != nil {
		b.Fatal(err)
	}
	from := netip.MustParseAddr("198.51.100.100")
	for _, bc := range []struct{ name, server string }{{"client", ""}, {"valid", "010000005cf79f111f8130c3eee29480"}} {
		b.Run(bc.name, func(b *testing.B) {
			q := dnswire.Query{Cookie: true, ServerCookie: unhex(b, bc.server)}
			copy(q.ClientCookie[:], unhex(b, "2464c4abcf10c957"))
			for b.Loop() {
				j.apply(&q, from)
			}
		})
	}
}

// TestCookieQuery: a query without a question but with a cookie gets a
// server cookie (RFC 7873 section 5.4): NOERROR for a client cookie alone
// or with a valid server cookie, BADCOOKIE for an invalid one; FORMERR as
// before without a cookie, or with cookies off.
func TestCookieQuery(t *testing.T) {
	clk := &stepClock{}
	clk.set(1559731985)
	from := netip.MustParseAddr("198.51.100.100")
	on := edgeHandler(t, Config{Cookies: Cookies{Secret: unhex(t, rfcSecret), Now: clk.Now}})
	off := edgeHandler(t, Config{Cookies: Cookies{Off: true}})
	const valid = "2464c4abcf10c957010000005cf79f111f8130c3eee29480" // A.1
	for _, tc := range []struct {
		name   string
		h      *handler
		cookie string
		rcode  int
		reply  string // the cookie answered ("" none)
	}{
		{"client cookie", on, "2464c4abcf10c957", dns.RcodeSuccess, valid},
		{"valid server cookie", on, valid, dns.RcodeSuccess, valid},
		{"invalid server cookie", on, valid[:47] + "1", dns.RcodeBadCookie, valid},
		{"no cookie", on, "", dns.RcodeFormatError, ""},
		{"cookies off", off, "2464c4abcf10c957", dns.RcodeFormatError, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := new(dns.Msg)
			m.Id = 7
			m.SetEdns0(1232, false)
			if tc.cookie != "" {
				m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: tc.cookie})
			}
			pkt, _ := m.Pack()
			r := new(dns.Msg)
			if err := r.Unpack(tc.h.serve(pkt, from, false)); err != nil {
				t.Fatal(err)
			}
			reply := ""
			for _, o := range r.IsEdns0().Option {
				if c, ok := o.(*dns.EDNS0_COOKIE); ok {
					reply = c.Cookie
				}
			}
			if r.Rcode != tc.rcode || reply != tc.reply || len(r.Question)+len(r.Answer)+len(r.Ns) != 0 {
				t.Errorf("rcode %s cookie %q, want %s %q\n%v", dns.RcodeToString[r.Rcode], reply, dns.RcodeToString[tc.rcode], tc.reply, r)
			}
		})
	}
}
