package steerctl

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/clock"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/testutil"
	"github.com/stratusdns/stratus/internal/zone"
)

// hostTable is a DNS server on loopback answering A queries from a table
// the test changes.
type hostTable struct {
	mu    sync.Mutex
	addrs map[string]string
}

func (h *hostTable) set(host, addr string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.addrs[host] = addr
}

func (h *hostTable) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(r)
	q := r.Question[0]
	h.mu.Lock()
	addr, ok := h.addrs[q.Name]
	h.mu.Unlock()
	if !ok {
		m.Rcode = dns.RcodeNameError
	} else if q.Qtype == dns.TypeA {
		m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 30}, A: net.ParseIP(addr)})
	}
	w.WriteMsg(m)
}

// resolverOf returns a resolver asking only the server at addr.
func resolverOf(addr string) *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
}

// steeredA returns the addresses steering answers for name.
func steeredA(c *Controller, name model.Name) []string {
	var cl zone.Client
	cl.Begin()
	set, _ := c.Snapshots().Load().Steer(string(name.Wire()), dns.TypeA, &cl)
	var out []string
	if set != nil {
		for _, rd := range set.Rdata {
			a, _ := netip.AddrFromSlice(rd)
			out = append(out, a.String())
		}
	}
	return out
}

// TestFlatteningRecompilesItsServicesOnly: when a flattened hostname
// resolves to new addresses, the services answering it are compiled
// again and answer them; the others are left as they were.
func TestFlatteningRecompilesItsServicesOnly(t *testing.T) {
	table := &hostTable{addrs: map[string]string{"h1.origin.test.": "192.0.2.1", "h2.origin.test.": "192.0.2.2"}}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	testutil.ServeDNS(t, &dns.Server{PacketConn: pc, Handler: table})
	clk := clock.NewFake(epoch)
	const refresh = 30 * time.Second
	c, _ := newControllerWith(t, Options{Clock: clk, Resolver: resolverOf(pc.LocalAddr().String()), FlattenRefresh: refresh})
	var svcs []*model.Service
	var eps []*model.Endpoint
	for _, n := range []struct{ svc, host string }{{"a.example.com.", "h1.origin.test."}, {"b.example.com.", "h2.origin.test."}} {
		s := &model.Service{Name: model.Name(n.svc), Zone: "example.com.", Flatten: true, Pools: []model.Pool{{Name: "p"}}}
		s.Normalize()
		e := &model.Endpoint{Service: s.Name, ID: "e", Pool: "p", Address: n.host, Created: epoch, Renewed: epoch}
		e.Normalize()
		svcs, eps = append(svcs, s), append(eps, e)
	}
	c.ResetServices(svcs, eps)
	waitFor(t, "both hostnames resolved", func() bool {
		a, b := steeredA(c, "a.example.com."), steeredA(c, "b.example.com.")
		return len(a) == 1 && a[0] == "192.0.2.1" && len(b) == 1 && b[0] == "192.0.2.2"
	})
	snap := c.Snapshots().Load()
	before := snap.Service(string(model.Name("b.example.com.").Wire()))

	table.set("h1.origin.test.", "192.0.2.11")
	waitFor(t, "the flattening loop waiting for its next round", func() bool { return clk.Armed() > 0 })
	clk.Step(refresh + time.Second)
	waitFor(t, "a.example.com. answering the new address", func() bool {
		a := steeredA(c, "a.example.com.")
		return len(a) == 1 && a[0] == "192.0.2.11"
	})
	after := c.Snapshots().Load().Service(string(model.Name("b.example.com.").Wire()))
	if after != before {
		t.Error("b.example.com. was compiled again, though its hostname did not change")
	}
}
