package drill

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/testutil"
)

// fakeNameserver answers api.example.com. A with the address it holds,
// and remembers the sources and client subnets it was asked from.
type fakeNameserver struct {
	answer  atomic.Value // string
	mu      sync.Mutex
	sources map[string]bool
	subnets map[string]bool
}

func startFake(t *testing.T) (*fakeNameserver, string) {
	t.Helper()
	f := &fakeNameserver{sources: map[string]bool{}, subnets: map[string]bool{}}
	f.answer.Store("192.0.2.1")
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		f.mu.Lock()
		f.sources[w.RemoteAddr().(*net.UDPAddr).IP.String()] = true
		if o := r.IsEdns0(); o != nil {
			for _, opt := range o.Option {
				if s, ok := opt.(*dns.EDNS0_SUBNET); ok {
					f.subnets[s.Address.String()] = true
				}
			}
		}
		f.mu.Unlock()
		m := new(dns.Msg)
		m.SetReply(r)
		m.Authoritative = true
		if r.Question[0].Qtype == dns.TypeA {
			m.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: r.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 5}, A: net.ParseIP(f.answer.Load().(string))}}
		}
		w.WriteMsg(m)
	})}
	testutil.ServeDNS(t, srv)
	return f, pc.LocalAddr().String()
}

func TestProber(t *testing.T) {
	f, addr := startFake(t)
	dead, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := dead.LocalAddr().String()
	dead.Close() // nothing listens there now

	s := &Scenario{
		Services:    []string{"API.example.com"},
		Nameservers: []Nameserver{{Name: "fake", Address: addr}, {Name: "dead", Address: deadAddr}},
		Clients:     []Client{{Name: "fra", Subnet: "203.0.113.0/24"}, {Name: "local", Source: "127.0.0.5"}},
		Interval:    50 * time.Millisecond,
	}
	p := NewProber(s)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); p.Run(ctx, s) }()
	// Every series has queried a few times and the fake's have seen its
	// first answer; then the answer changes, and they see that too.
	waitSeries(t, p, func(se Series) bool { return se.Queries >= 3 && (se.Nameserver != "fake" || len(se.Changes) >= 1) })
	f.answer.Store("192.0.2.2")
	waitSeries(t, p, func(se Series) bool { return se.Queries >= 5 && (se.Nameserver != "fake" || len(se.Changes) >= 2) })
	cancel()
	<-done

	series := p.Series()
	if len(series) != 4 {
		t.Fatalf("%d series, want 2 nameservers × 2 clients", len(series))
	}
	for _, se := range series {
		if se.Service != "api.example.com." || se.Queries < 5 {
			t.Errorf("%s/%s: service %q after %d queries", se.Nameserver, se.Client, se.Service, se.Queries)
		}
		switch se.Nameserver {
		case "fake":
			if len(se.Changes) != 2 || se.Changes[0].Answer[0] != "192.0.2.1" || se.Changes[1].Answer[0] != "192.0.2.2" || se.Timeouts != 0 {
				t.Errorf("fake/%s: %+v", se.Client, se)
			}
			if !se.Changes[1].At.After(se.Changes[0].At) {
				t.Errorf("fake/%s: the change seen at %v, not after the first answer at %v", se.Client, se.Changes[1].At, se.Changes[0].At)
			}
		case "dead":
			if se.Timeouts != se.Queries || len(se.Changes) != 1 || se.Changes[0].Rcode >= 0 {
				t.Errorf("dead/%s: %+v", se.Client, se)
			}
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.sources["127.0.0.5"] || !f.subnets["203.0.113.0"] {
		t.Errorf("sources %v, subnets %v", f.sources, f.subnets)
	}
}

// waitSeries waits until the prober has four series (two nameservers, two
// clients) and ok holds for each.
func waitSeries(t *testing.T, p *Prober, ok func(Series) bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		series := p.Series()
		done := len(series) == 4
		for _, se := range series {
			done = done && ok(se)
		}
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("prober series not as expected within 30s: %+v", series)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
