package xfr

import (
	"net/netip"
	"testing"

	"github.com/miekg/dns"
)

// FuzzServe feeds arbitrary requests to the full path: it must never
// panic nor write a message longer than TCP can carry.
func FuzzServe(f *testing.F) {
	for _, q := range []uint16{dns.TypeAXFR, dns.TypeIXFR, dns.TypeA} {
		m := new(dns.Msg)
		m.SetQuestion("x.test.", q)
		m.SetTsig("xfr.", dns.HmacSHA512, 300, 1)
		b, _ := m.Pack()
		f.Add(b, true)
	}
	// A TSIG record followed by another record, and a signed UPDATE with
	// a Fudge of an hour.
	m := new(dns.Msg)
	m.SetUpdate("x.test.")
	m.SetTsig("xfr.", dns.HmacSHA512, 3600, 1)
	m.Extra = append(m.Extra, &dns.A{Hdr: dns.RR_Header{Name: "a.x.test.", Rrtype: dns.TypeA, Class: dns.ClassINET}, A: []byte{192, 0, 2, 1}})
	b, _ := m.Pack()
	f.Add(b, false)
	m.Extra = m.Extra[:1]
	b, _ = m.Pack()
	f.Add(b, false)
	e := newEnv(f, 3)
	f.Fuzz(func(t *testing.T, req []byte, tcp bool) {
		e.srv.Serve(t.Context(), req, nil, netip.MustParseAddr("10.0.0.1"), tcp, func(b []byte) error {
			if len(b) > 65535 {
				t.Fatalf("message of %d octets", len(b))
			}
			return nil
		})
	})
}
