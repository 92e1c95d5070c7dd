package dnsserver

import (
	"net/netip"
	"sync/atomic"
	"testing"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/zone"
	"github.com/stratusdns/stratus/internal/zone/zonetest"
)

// BenchmarkServeRRL is BenchmarkServe's positive answer with the work
// a UDP reader adds for rate limiting (rrl=on; off: none), as in
// serveUDP: the clock read once per batch of 32, then per answer the
// exempt list, the classification, the key and the bucket. The clients
// are 4096 networks and the rate is set so high that nothing is limited:
// normal traffic, whose cost is all accounting.
func BenchmarkServeRRL(b *testing.B) {
	var src atomic.Pointer[zone.Snapshot]
	src.Store(zonetest.Build(b, map[string]string{"example.com.": zonetest.ExampleCom}))
	clients := make([]netip.Addr, 4096)
	for i := range clients {
		clients[i] = netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 1})
	}
	for _, bc := range []struct {
		name, qname string
		qtype       uint16
	}{
		{"positive", "www.example.com.", dns.TypeA},
		{"nxdomain", "nope.example.com.", dns.TypeA},
		{"wildcard", "x.wild.example.com.", dns.TypeA},
	} {
		m := new(dns.Msg)
		m.SetQuestion(bc.qname, bc.qtype)
		m.SetEdns0(1232, false)
		pkt, _ := m.Pack()
		for _, on := range []bool{false, true} {
			name := bc.name + "/rrl=off"
			if on {
				name = bc.name + "/rrl=on"
			}
			b.Run(name, func(b *testing.B) {
				h := newHandler(&src, nil, 1232, false)
				var r *rateLimiter
				if on {
					cfg := RRLConfig{ResponsesPerSecond: 1_000_000, Exempt: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}}
					c, err := cfg.withDefaults()
					if err != nil {
						b.Fatal(err)
					}
					r = newRateLimiter(c)
				}
				b.ReportAllocs()
				var now int64
				i := 0
				for b.Loop() {
					if r != nil && i%udpBatchSize == 0 {
						now = r.now()
					}
					from := clients[i%len(clients)]
					resp := h.serve(pkt, from, false)
					if r != nil {
						resp = r.limit(h, resp, from, now, h.serverCookieValid())
					}
					if resp == nil {
						b.Fatal("limited")
					}
					i++
				}
			})
		}
	}
}

// BenchmarkRRLLimit is the rate limiter's work for one answer alone,
// for 4096 client networks (nothing limited).
func BenchmarkRRLLimit(b *testing.B) {
	f := newRRLFixture(b, RRLConfig{ResponsesPerSecond: 1_000_000})
	clients := make([]netip.Addr, 4096)
	for i := range clients {
		clients[i] = netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 1})
	}
	resp := f.h.serve(query(b, "www.example.com.", dns.TypeA), clients[0], false)
	now := f.r.now()
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		if f.r.limit(f.h, resp, clients[i%len(clients)], now, false) == nil {
			b.Fatal("limited")
		}
		i++
	}
}
