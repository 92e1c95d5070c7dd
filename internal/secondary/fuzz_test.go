package secondary

import (
	"testing"

	"github.com/miekg/dns"
)

// FuzzParseTransfer feeds arbitrary transfer messages to both transfer
// parsers: no panic, and nothing outside the zone accepted.
func FuzzParseTransfer(f *testing.F) {
	m := new(dns.Msg)
	m.SetQuestion("sec.test.", dns.TypeIXFR)
	soa := &dns.SOA{Hdr: dns.RR_Header{Name: "sec.test.", Rrtype: dns.TypeSOA, Class: dns.ClassINET}, Ns: "ns1.sec.test.", Mbox: "h.sec.test.", Serial: 2}
	old := *soa
	old.Serial = 1
	m.Answer = []dns.RR{soa, &old, soa, soa}
	b, _ := m.Pack()
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		m := new(dns.Msg)
		if m.Unpack(b) != nil || len(m.Answer) == 0 {
			return
		}
		if sets, _, err := parseFull("sec.test.", m.Answer); err == nil {
			for _, s := range sets {
				if !s.Name.IsSubdomainOf("sec.test.") {
					t.Fatalf("%s accepted", s.Name)
				}
			}
		}
		if deltas, _, err := parseIncremental("sec.test.", m.Answer); err == nil {
			for _, d := range deltas {
				for _, s := range append(d.Removed, d.Added...) {
					if !s.Name.IsSubdomainOf("sec.test.") {
						t.Fatalf("%s accepted", s.Name)
					}
				}
			}
		}
	})
}
