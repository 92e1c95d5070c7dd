package dnsserver

import (
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/steer"
	"github.com/stratusdns/stratus/internal/zone"
	"github.com/stratusdns/stratus/internal/zone/zonetest"
)

type fixedSteering struct{ s *steer.Snapshot }

func (f fixedSteering) Steering() zone.Steering { return f.s }

// steeredHandler serves example.com. with api.example.com. steered by
// policy over six endpoints in three pools.
func steeredHandler(tb testing.TB, policy string) *handler {
	tb.Helper()
	return meteredHandler(tb, policy, nil)
}

// meteredHandler is steeredHandler counting the answers into m (nil:
// not counted).
func meteredHandler(tb testing.TB, policy string, m *steer.Meter) *handler {
	tb.Helper()
	b := zone.NewBuilder(zonetest.Build(tb, map[string]string{"example.com.": zonetest.ExampleCom}))
	if err := b.SetSteered(model.MustName("example.com.").Wire(), model.MustName("api.example.com.").Wire(), true); err != nil {
		tb.Fatal(err)
	}
	var src atomic.Pointer[zone.Snapshot]
	src.Store(b.Build(2))
	svc := &model.Service{Name: "api.example.com.", Policy: policy, Pools: []model.Pool{
		{Name: "p0", Priority: 1, Region: "eu-west"}, {Name: "p1", Priority: 1, Region: "us-east"}, {Name: "p2", Priority: 2},
	}}
	svc.Normalize()
	var eps []*model.Endpoint
	for i := range 6 {
		e := &model.Endpoint{Service: svc.Name, ID: string(rune('a' + i)), Pool: svc.Pools[i%3].Name, Address: netip.AddrFrom4([4]byte{192, 0, 2, byte(i + 1)}).String()}
		e.Normalize()
		eps = append(eps, e)
	}
	c, err := steer.Compile(svc, eps, steer.Inputs{Now: time.Now(), Meter: m})
	if err != nil {
		tb.Fatal(err)
	}
	return newHandler(&src, fixedSteering{steer.NewSnapshot([]*steer.CompiledService{c}, nil, steer.LatencyTable{"": {"eu-west": 5}})}, 1232, false)
}

// BenchmarkServeSteered compares a steered answer with a static one (run
// with BenchmarkServe/positive): the whole query path, parse to response.
func BenchmarkServeSteered(b *testing.B) {
	for _, policy := range model.Policies {
		b.Run(policy, func(b *testing.B) {
			h := steeredHandler(b, policy)
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

func TestSteeredAllocations(t *testing.T) {
	for _, policy := range model.Policies {
		h := counted(steeredHandler(t, policy))
		m := new(dns.Msg)
		m.SetQuestion("api.example.com.", dns.TypeA)
		pkt, _ := m.Pack()
		from := netip.MustParseAddr("127.0.0.1")
		resp := h.serve(pkt, from, false)
		r := new(dns.Msg)
		if err := r.Unpack(resp); err != nil || len(r.Answer) == 0 {
			t.Fatalf("%s: %v %v", policy, err, r)
		}
		if n := testing.AllocsPerRun(200, func() { h.serve(pkt, from, false) }); n > 0 {
			t.Errorf("%s: %v allocations per steered query, budget 0", policy, n)
		}
	}
}
