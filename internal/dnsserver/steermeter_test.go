package dnsserver

import (
	"net/netip"
	"testing"

	"github.com/miekg/dns"

	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/steer"
)

// TestSteeredAllocationsCounted: counting the answers per pool and reason
// keeps a steered query free of allocations, and counts every one.
func TestSteeredAllocationsCounted(t *testing.T) {
	for _, policy := range model.Policies {
		meter := steer.NewMeter()
		h := meteredHandler(t, policy, meter)
		m := new(dns.Msg)
		m.SetQuestion("api.example.com.", dns.TypeA)
		pkt, _ := m.Pack()
		from := netip.MustParseAddr("127.0.0.1")
		if h.serve(pkt, from, false) == nil {
			t.Fatalf("%s: no response", policy)
		}
		if n := testing.AllocsPerRun(200, func() { h.serve(pkt, from, false) }); n > 0 {
			t.Errorf("%s: %v allocations per steered query, budget 0", policy, n)
		}
		var total uint64
		for _, a := range meter.Answers() {
			if a.Reason != steer.ReasonHealthy {
				t.Errorf("%s: %+v counted, want healthy answers only", policy, a)
			}
			total += a.N
		}
		if total != 202 { // the first, AllocsPerRun's warm-up and its 200
			t.Errorf("%s: %d answers counted, want 202", policy, total)
		}
	}
}

// BenchmarkServeSteeredCounted is BenchmarkServeSteered with the answers
// counted, as a node with metrics on does.
func BenchmarkServeSteeredCounted(b *testing.B) {
	for _, policy := range model.Policies {
		b.Run(policy, func(b *testing.B) {
			h := meteredHandler(b, policy, steer.NewMeter())
			m := new(dns.Msg)
			m.SetQuestion("api.example.com.", dns.TypeA)
			m.SetEdns0(1232, false)
			pkt, _ := m.Pack()
			from := netip.MustParseAddr("127.0.0.1")
			if h.serve(pkt, from, false) == nil {
				b.Fatal("no response")
			}
			b.ReportAllocs()
			for b.Loop() {
				h.serve(pkt, from, false)
			}
		})
	}
}
