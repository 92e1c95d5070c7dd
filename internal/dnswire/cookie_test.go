package dnswire

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/dnsconst"
	"github.com/stratusdns/stratus/internal/zone"
)

// withOptions returns a query for Www.Example.com. A with an OPT record
// holding opts, each given as code and hex data.
func withOptions(t testing.TB, opts ...string) []byte {
	t.Helper()
	return packQuery(t, func(m *dns.Msg) {
		m.SetEdns0(1232, false)
		o := m.IsEdns0()
		for _, s := range opts {
			code, data, _ := strings.Cut(s, ":")
			var c uint16
			fmt.Sscan(code, &c)
			b, err := hex.DecodeString(data)
			if err != nil {
				t.Fatal(err)
			}
			o.Option = append(o.Option, &dns.EDNS0_LOCAL{Code: c, Data: b})
		}
	})
}

const (
	testClientCookie = "2464c4abcf10c957"
	testServerCookie = "010000005cf79f111f8130c3eee29480" // RFC 9018 appendix A.1
)

// TestParseCookie reads the COOKIE option (RFC 7873 section 4): a client
// cookie alone, or with a server cookie of 8 to 32 octets; every other
// length, and a second COOKIE option, is FORMERR (section 5.2.2), with
// EDNS kept for the response.
func TestParseCookie(t *testing.T) {
	for _, tc := range []struct {
		name   string
		opts   []string
		err    bool
		server string // the server cookie read, hex
		nsid   bool
	}{
		{name: "client cookie alone", opts: []string{"10:" + testClientCookie}},
		{name: "client and an 8-octet server cookie", opts: []string{"10:" + testClientCookie + "0102030405060708"}, server: "0102030405060708"},
		{name: "client and a 16-octet server cookie", opts: []string{"10:" + testClientCookie + testServerCookie}, server: testServerCookie},
		{name: "client and a 32-octet server cookie", opts: []string{"10:" + testClientCookie + strings.Repeat("ab", 32)}, server: strings.Repeat("ab", 32)},
		{name: "with ECS and NSID", opts: []string{"8:00011800c63364", "10:" + testClientCookie, "3:"}, nsid: true},
		{name: "NSID alone", opts: []string{"3:"}, nsid: true},
		{name: "empty cookie", opts: []string{"10:"}, err: true},
		{name: "7-octet client cookie", opts: []string{"10:" + testClientCookie[:14]}, err: true},
		{name: "9 octets: a 1-octet server cookie", opts: []string{"10:" + testClientCookie + "01"}, err: true},
		{name: "15 octets: a 7-octet server cookie", opts: []string{"10:" + testClientCookie + "01020304050607"}, err: true},
		{name: "41 octets: a 33-octet server cookie", opts: []string{"10:" + testClientCookie + strings.Repeat("ab", 33)}, err: true},
		{name: "two cookie options", opts: []string{"10:" + testClientCookie, "10:" + testClientCookie}, err: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var q Query
			err := ParseQuery(withOptions(t, tc.opts...), &q)
			var fe *FormatError
			if tc.err {
				if !errors.As(err, &fe) || fe.Rcode != dnsconst.RcodeFormErr {
					t.Fatalf("err %v, want FORMERR", err)
				}
				if !q.EDNS || q.Cookie {
					t.Errorf("EDNS %v Cookie %v: want EDNS kept for the FORMERR, and no cookie to echo", q.EDNS, q.Cookie)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if q.NSID != tc.nsid {
				t.Errorf("NSID %v, want %v", q.NSID, tc.nsid)
			}
			wantCookie := strings.Contains(strings.Join(tc.opts, " "), "10:")
			if q.Cookie != wantCookie {
				t.Fatalf("Cookie %v, want %v", q.Cookie, wantCookie)
			}
			if !wantCookie {
				return
			}
			if got := hex.EncodeToString(q.ClientCookie[:]); got != testClientCookie {
				t.Errorf("client cookie %s", got)
			}
			if got := hex.EncodeToString(q.ServerCookie); got != tc.server {
				t.Errorf("server cookie %q, want %q", got, tc.server)
			}
			if q.CookieValid || q.SendCookie {
				t.Error("the parser set what only the caller may")
			}
		})
	}
}

// TestOptionsGolden writes responses to queries with cookies, NSID and
// ECS, and to CH TXT queries, and compares them with
// testdata/options.golden: the COOKIE option carries the client cookie and
// the server cookie the caller made, in every response to a query with a
// well-formed cookie (errors and truncated responses too), and NSID the
// server's identity when asked for.
func TestOptionsGolden(t *testing.T) {
	snap := testSnapshot(t)
	newCookie := [16]byte{1, 0, 0, 0, 0x5c, 0xf7, 0x9f, 0x11, 0x1f, 0x81, 0x30, 0xc3, 0xee, 0xe2, 0x94, 0x80}
	cases := []struct {
		name  string
		pkt   []byte
		limit int
		nsid  string
		txt   string // answer with Writer.TXT
	}{
		{name: "client cookie", pkt: withOptions(t, "10:"+testClientCookie)},
		{name: "client and server cookie", pkt: withOptions(t, "10:"+testClientCookie+testServerCookie)},
		{name: "cookie, NSID asked, no identity", pkt: withOptions(t, "10:"+testClientCookie, "3:")},
		{name: "NSID asked", pkt: withOptions(t, "3:"), nsid: "ns1.example.net"},
		{name: "NSID not asked", pkt: withOptions(t), nsid: "ns1.example.net"},
		{name: "ECS, cookie and NSID", pkt: withOptions(t, "8:00011800c63364", "10:"+testClientCookie, "3:"), nsid: "ns1.example.net"},
		{name: "malformed cookie: FORMERR without a cookie", pkt: withOptions(t, "10:"+testClientCookie+"01"), nsid: "ns1.example.net"},
		{name: "cookie in a BADVERS", pkt: packQuery(t, func(m *dns.Msg) {
			m.SetEdns0(1232, false)
			m.IsEdns0().SetVersion(1)
			m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: testClientCookie})
		})},
		{name: "cookie in a truncated response", pkt: packQuery(t, func(m *dns.Msg) {
			m.SetQuestion("txt.big.test.", dns.TypeTXT)
			m.SetEdns0(512, false)
			m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: testClientCookie})
		}), limit: 512},
		{name: "CH TXT id.server with cookie and NSID", pkt: packQuery(t, func(m *dns.Msg) {
			m.SetQuestion("ID.server.", dns.TypeTXT)
			m.Question[0].Qclass = dns.ClassCHAOS
			m.SetEdns0(1232, false)
			m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: testClientCookie}, &dns.EDNS0_NSID{Code: dns.EDNS0NSID})
		}), nsid: "ns1.example.net", txt: "ns1.example.net"},
		{name: "CH TXT without EDNS", pkt: packQuery(t, func(m *dns.Msg) {
			m.SetQuestion("hostname.bind.", dns.TypeTXT)
			m.Question[0].Qclass = dns.ClassCHAOS
		}), txt: strings.Repeat("x", 255)},
		{name: "CH TXT that does not fit the requester's 512 octets", pkt: packQuery(t, func(m *dns.Msg) {
			m.SetQuestion("id.server.", dns.TypeTXT)
			m.Question[0].Qclass = dns.ClassCHAOS
			m.SetEdns0(512, false)
			m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_NSID{Code: dns.EDNS0NSID})
		}), nsid: strings.Repeat("x", 255), txt: strings.Repeat("x", 255), limit: 512},
	}
	var out bytes.Buffer
	for _, c := range cases {
		var q Query
		w := Writer{NSID: []byte(c.nsid)}
		err := ParseQuery(c.pkt, &q)
		if q.Cookie {
			q.SendCookie, q.NewServerCookie = true, newCookie
		}
		limit := c.limit
		if limit == 0 {
			limit = w.UDPLimit(&q)
		}
		var wire []byte
		var fe *FormatError
		switch {
		case errors.As(err, &fe):
			wire = w.Error(&q, fe.Rcode)
		case err != nil:
			t.Fatalf("%s: %v", c.name, err)
		case c.txt != "":
			wire = w.TXT(&q, []byte(c.txt), limit)
		default:
			var a zone.Answer
			snap.Lookup(&a, q.Qname, q.Qtype)
			wire, _ = w.Answer(&q, &a, limit)
		}
		if len(wire) > limit {
			t.Errorf("%s: %d octets over a limit of %d", c.name, len(wire), limit)
		}
		m := new(dns.Msg)
		if err := m.Unpack(wire); err != nil {
			t.Fatalf("%s: response does not unpack: %v", c.name, err)
		}
		fmt.Fprintf(&out, "; %s: %d octets\n", c.name, len(wire))
		rcode := dns.RcodeToString[m.Rcode]
		if m.Rcode == dns.RcodeBadVers {
			rcode = "BADVERS" // miekg/dns names 16 BADSIG, its meaning in TSIG
		}
		fmt.Fprintf(&out, "rcode=%s aa=%v tc=%v\n", rcode, m.Authoritative, m.Truncated)
		for _, rr := range m.Answer {
			fmt.Fprintf(&out, "AN %s\n", strings.Join(strings.Fields(rr.String()), " "))
		}
		if o := m.IsEdns0(); o != nil {
			fmt.Fprintf(&out, "OPT udp=%d rcode=%d\n", o.UDPSize(), o.ExtendedRcode())
			for _, opt := range o.Option {
				fmt.Fprintf(&out, "OPT option %d: %s\n", opt.Option(), opt.String())
			}
		}
		out.WriteString("\n")
	}
	golden := filepath.Join("testdata", "options.golden")
	if *update {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Errorf("responses differ from %s (run go test -update to accept):\n--- got\n%s\n--- want\n%s", golden, out.Bytes(), want)
	}
}

// TestParseCookieQuery: a QUERY without a question but with a COOKIE
// option asks for a server cookie (RFC 7873 section 5.4); ParseQuery says
// FORMERR and marks it, so that a server doing cookies answers it instead.
func TestParseCookieQuery(t *testing.T) {
	cookie := func(m *dns.Msg) {
		m.SetEdns0(1232, false)
		m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: testClientCookie})
	}
	for _, tc := range []struct {
		name string
		edit func(m *dns.Msg)
		want bool
	}{
		{"no question, a cookie", func(m *dns.Msg) { cookie(m); m.Question = nil }, true},
		{"no question, no cookie", func(m *dns.Msg) { m.SetEdns0(1232, false); m.Question = nil }, false},
		{"no question, a cookie, EDNS version 1", func(m *dns.Msg) { cookie(m); m.Question = nil; m.IsEdns0().SetVersion(1) }, false},
		{"no question, a cookie, an answer record", func(m *dns.Msg) {
			cookie(m)
			m.Question = nil
			rr, _ := dns.NewRR("www.example.com. 1 IN A 192.0.2.1")
			m.Answer = append(m.Answer, rr)
		}, false},
		{"two questions, a cookie", func(m *dns.Msg) { cookie(m); m.Question = append(m.Question, m.Question[0]) }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var q Query
			err := ParseQuery(packQuery(t, tc.edit), &q)
			var fe *FormatError
			if !errors.As(err, &fe) || fe.Rcode != dnsconst.RcodeFormErr {
				t.Fatalf("err %v, want FORMERR", err)
			}
			if q.CookieQuery != tc.want {
				t.Errorf("CookieQuery %v, want %v", q.CookieQuery, tc.want)
			}
		})
	}
}
