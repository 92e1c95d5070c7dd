package dnsserver

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// TestChaosIdentity: CH TXT id.server and hostname.bind answer the
// identity, version.bind and version.server the version (RFC 4892), in
// any case, authoritatively, with TTL 0; each is REFUSED when its value is
// not set, and so is every other query of a class other than IN.
func TestChaosIdentity(t *testing.T) {
	both := edgeHandler(t, Config{Identity: "ns1.example.net", Version: "stratus 1.2"})
	none := edgeHandler(t, Config{})
	for _, tc := range []struct {
		name   string
		h      *handler
		qname  string
		qtype  uint16
		qclass uint16
		want   string // the TXT answered; "" REFUSED
	}{
		{"id.server", both, "id.server.", dns.TypeTXT, dns.ClassCHAOS, "ns1.example.net"},
		{"ID.SERVER", both, "ID.SERVER.", dns.TypeTXT, dns.ClassCHAOS, "ns1.example.net"},
		{"hostname.bind", both, "hostname.bind.", dns.TypeTXT, dns.ClassCHAOS, "ns1.example.net"},
		{"version.bind", both, "version.bind.", dns.TypeTXT, dns.ClassCHAOS, "stratus 1.2"},
		{"version.server", both, "Version.Server.", dns.TypeTXT, dns.ClassCHAOS, "stratus 1.2"},
		{"id.server A", both, "id.server.", dns.TypeA, dns.ClassCHAOS, ""},
		{"id.server ANY", both, "id.server.", dns.TypeANY, dns.ClassCHAOS, ""},
		{"id.server in class HS", both, "id.server.", dns.TypeTXT, dns.ClassHESIOD, ""},
		{"authors.bind", both, "authors.bind.", dns.TypeTXT, dns.ClassCHAOS, ""},
		{"x.id.server", both, "x.id.server.", dns.TypeTXT, dns.ClassCHAOS, ""},
		{"www.example.com. CH", both, "www.example.com.", dns.TypeTXT, dns.ClassCHAOS, ""},
		{"id.server without identity", none, "id.server.", dns.TypeTXT, dns.ClassCHAOS, ""},
		{"version.bind without version", none, "version.bind.", dns.TypeTXT, dns.ClassCHAOS, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, tcp := range []bool{false, true} {
				m := new(dns.Msg)
				m.SetQuestion(tc.qname, tc.qtype)
				m.Question[0].Qclass = tc.qclass
				pkt, _ := m.Pack()
				r := new(dns.Msg)
				if err := r.Unpack(tc.h.serve(pkt, loopback, tcp)); err != nil {
					t.Fatal(err)
				}
				if tc.want == "" {
					if r.Rcode != dns.RcodeRefused || len(r.Answer) != 0 || r.Authoritative {
						t.Errorf("tcp %v: want REFUSED, got\n%v", tcp, r)
					}
					continue
				}
				if r.Rcode != dns.RcodeSuccess || !r.Authoritative || len(r.Answer) != 1 || len(r.Question) != 1 || r.Question[0].Name != tc.qname {
					t.Fatalf("tcp %v: got\n%v", tcp, r)
				}
				txt, ok := r.Answer[0].(*dns.TXT)
				if !ok || len(txt.Txt) != 1 || txt.Txt[0] != tc.want || txt.Hdr.Class != dns.ClassCHAOS || txt.Hdr.Ttl != 0 || txt.Hdr.Name != tc.qname {
					t.Errorf("tcp %v: answer %v, want %q", tcp, r.Answer[0], tc.want)
				}
			}
		})
	}
}

// TestNSID: a query with an empty NSID option gets the identity in its
// OPT record (RFC 5001), whatever its answer; without an identity, or
// without the option, none.
func TestNSID(t *testing.T) {
	id := edgeHandler(t, Config{Identity: "ns1.example.net"})
	none := edgeHandler(t, Config{})
	for _, tc := range []struct {
		name  string
		h     *handler
		qname string
		nsid  bool
		want  string // hex
	}{
		{"asked", id, "www.example.com.", true, "6e73312e6578616d706c652e6e6574"},
		{"asked, NXDOMAIN", id, "nope.example.com.", true, "6e73312e6578616d706c652e6e6574"},
		{"asked, REFUSED", id, "www.example.org.", true, "6e73312e6578616d706c652e6e6574"},
		{"not asked", id, "www.example.com.", false, ""},
		{"no identity", none, "www.example.com.", true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := new(dns.Msg)
			m.SetQuestion(tc.qname, dns.TypeA)
			m.SetEdns0(1232, false)
			if tc.nsid {
				m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_NSID{Code: dns.EDNS0NSID})
			}
			pkt, _ := m.Pack()
			r := new(dns.Msg)
			if err := r.Unpack(tc.h.serve(pkt, netip.MustParseAddr("192.0.2.1"), false)); err != nil {
				t.Fatal(err)
			}
			got := ""
			for _, o := range r.IsEdns0().Option {
				if n, ok := o.(*dns.EDNS0_NSID); ok {
					got = n.Nsid
				}
			}
			if got != tc.want {
				t.Errorf("NSID %q, want %q\n%v", got, tc.want, r)
			}
		})
	}
}

// TestNSIDFitsErrors: the longest identity, sent as NSID with a cookie in
// a REFUSED to the longest name, still fits the 512 octets of UDP that
// every requester accepts (error responses are never truncated).
func TestNSIDFitsErrors(t *testing.T) {
	h := edgeHandler(t, Config{Identity: strings.Repeat("n", MaxIdentity)})
	name := strings.Repeat(strings.Repeat("x", 62)+".", 4) // 4 labels of 62: 253 octets in wire format
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeA)
	m.SetEdns0(512, false)
	m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_NSID{Code: dns.EDNS0NSID},
		&dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102030405060708"})
	pkt, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	out := h.serve(pkt, loopback, false)
	r := new(dns.Msg)
	if err := r.Unpack(out); err != nil {
		t.Fatal(err)
	}
	if r.Rcode != dns.RcodeRefused || len(r.IsEdns0().Option) != 2 || len(out) > 512 {
		t.Errorf("%d octets, want at most 512 with NSID and cookie:\n%v", len(out), r)
	}
}
