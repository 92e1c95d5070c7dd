package dnswire

import (
	"bytes"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/dnsconst"
	"github.com/stratusdns/stratus/internal/zone/zonetest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestAdditionalGolden answers NS, MX and SRV queries from
// testdata/additional.zone and compares the responses with
// testdata/additional.golden: the addresses of in-zone targets in the
// additional section (glue and wildcards included, CNAME targets not), and
// over UDP without EDNS as many of them as fit, never TC for them.
func TestAdditionalGolden(t *testing.T) {
	text, err := os.ReadFile(filepath.Join("testdata", "additional.zone"))
	if err != nil {
		t.Fatal(err)
	}
	snap := zonetest.Build(t, map[string]string{"add.test.": string(text)})
	cases := []struct {
		qname string
		qtype uint16
		edns  bool
	}{
		{"add.test.", dns.TypeNS, true},
		{"add.test.", dns.TypeMX, true},
		{"add.test.", dns.TypeANY, true},
		{"deleg.add.test.", dns.TypeMX, true},
		{"wildmx.add.test.", dns.TypeMX, true},
		{"twowild.add.test.", dns.TypeMX, true},
		{"_sip._tcp.add.test.", dns.TypeSRV, true},
		{"alias.add.test.", dns.TypeMX, true},
		{"cnmx.add.test.", dns.TypeMX, true},
		{"outside.add.test.", dns.TypeMX, true},
		{"ptr.add.test.", dns.TypePTR, true},
		{"svc.add.test.", dns.TypeSRV, true},
		{"many.add.test.", dns.TypeMX, true},
		{"many.add.test.", dns.TypeMX, false},
		{"huge.add.test.", dns.TypeMX, false},
		{"huge.add.test.", dns.TypeMX, true},
	}
	var out bytes.Buffer
	for _, c := range cases {
		query := new(dns.Msg)
		query.SetQuestion(c.qname, c.qtype)
		query.Id = 1
		limit := dnsconst.MinUDPSize
		if c.edns {
			query.SetEdns0(dnsconst.DefaultUDPSize, false)
			limit = dnsconst.DefaultUDPSize
		}
		m, wire := respond(t, snap, query, limit)
		if len(wire) > limit {
			t.Errorf("%s %s: %d octets over a limit of %d", c.qname, dns.TypeToString[c.qtype], len(wire), limit)
		}
		fmt.Fprintf(&out, "; %s %s edns=%v: %d octets\n", c.qname, dns.TypeToString[c.qtype], c.edns, len(wire))
		fmt.Fprintf(&out, "rcode=%s aa=%v tc=%v\n", dns.RcodeToString[m.Rcode], m.Authoritative, m.Truncated)
		for _, sec := range []struct {
			name string
			rrs  []dns.RR
		}{{"AN", m.Answer}, {"NS", m.Ns}, {"AR", m.Extra}} {
			for _, rr := range sec.rrs {
				if rr.Header().Rrtype != dns.TypeOPT {
					fmt.Fprintf(&out, "%s %s\n", sec.name, strings.Join(strings.Fields(rr.String()), " "))
				}
			}
		}
		out.WriteString("\n")
	}
	golden := filepath.Join("testdata", "additional.golden")
	if *update {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Errorf("responses differ from %s (run go test -update to accept):\n--- got\n%s\n--- want\n%s", golden, out.Bytes(), want)
	}
}

// TestOptLen: the room the writer keeps for the OPT record is the length
// of the record it writes, with and without the client subnet, cookie
// and NSID options.
func TestOptLen(t *testing.T) {
	tests := []struct {
		name  string
		q     Query
		rcode int
	}{
		{"no ECS", Query{EDNS: true}, dnsconst.RcodeSuccess},
		{"ECS IPv4 /24", Query{EDNS: true, ECS: true, ECSSource: 24, ECSAddr: netip.MustParseAddr("198.51.100.0")}, dnsconst.RcodeSuccess},
		{"ECS IPv4 /22, NXDOMAIN", Query{EDNS: true, ECS: true, ECSSource: 22, ECSScope: 24, ECSAddr: netip.MustParseAddr("198.51.100.0")}, dnsconst.RcodeNXDomain},
		{"ECS IPv6 /56", Query{EDNS: true, ECS: true, ECSSource: 56, ECSAddr: netip.MustParseAddr("2001:db8::")}, dnsconst.RcodeSuccess},
		{"ECS source 0", Query{EDNS: true, ECS: true, ECSAddr: netip.MustParseAddr("0.0.0.0")}, dnsconst.RcodeSuccess},
		{"ECS, SERVFAIL", Query{EDNS: true, ECS: true, ECSSource: 24, ECSAddr: netip.MustParseAddr("198.51.100.0")}, dnsconst.RcodeServFail},
		{"cookie", Query{EDNS: true, Cookie: true, SendCookie: true}, dnsconst.RcodeSuccess},
		{"cookie not made (cookies off)", Query{EDNS: true, Cookie: true}, dnsconst.RcodeSuccess},
		{"NSID", Query{EDNS: true, NSID: true}, dnsconst.RcodeSuccess},
		{"ECS, cookie and NSID, REFUSED", Query{EDNS: true, ECS: true, ECSSource: 24, ECSAddr: netip.MustParseAddr("198.51.100.0"), Cookie: true, SendCookie: true, NSID: true}, dnsconst.RcodeRefused},
		{"ECS, cookie and NSID", Query{EDNS: true, ECS: true, ECSSource: 24, ECSAddr: netip.MustParseAddr("198.51.100.0"), Cookie: true, SendCookie: true, NSID: true}, dnsconst.RcodeSuccess},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := Writer{NSID: []byte("ns1.example")}
			w.opt(&tc.q, tc.rcode)
			if got := w.optLen(&tc.q, tc.rcode); got != len(w.buf) {
				t.Errorf("optLen %d, opt wrote %d octets", got, len(w.buf))
			}
		})
	}
}
