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
