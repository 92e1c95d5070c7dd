package dnsserver

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/stratusdns/stratus/internal/testutil"
	"github.com/stratusdns/stratus/internal/zone"
	"github.com/stratusdns/stratus/internal/zone/zonetest"
)

// poisoned is the name whose queries panic while the test hook is set.
const poisoned = "poison.example.com."

// panicky is an Extended handler that panics on every request.
type panicky struct{}

func (panicky) Serve(context.Context, []byte, []byte, netip.Addr, bool, func([]byte) error) {
	panic("extended handler broke")
}

// panics records what Config.OnPanic was told.
type panics struct {
	mu   sync.Mutex
	seen []string
}

func (p *panics) add(component string, recovered any, stack []byte) {
	if recovered == nil || len(stack) == 0 {
		component += " (no value or stack)"
	}
	p.mu.Lock()
	p.seen = append(p.seen, component)
	p.mu.Unlock()
}

func (p *panics) count(component string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, c := range p.seen {
		if c == component {
			n++
		}
	}
	return n
}

// waitPanics waits until OnPanic has seen n panics of component.
func (p *panics) wait(t *testing.T, component string, n int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for p.count(component) < n {
		if time.Now().After(deadline) {
			p.mu.Lock()
			t.Fatalf("OnPanic saw %v, want %d of %s", p.seen, n, component)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestPanicRecovered: a query that panics costs its own answer (and, on
// TCP, its connection), is logged with its stack and reported through
// OnPanic; the same UDP reader and the listener go on answering.
func TestPanicRecovered(t *testing.T) {
	queryHook = func(h *handler) {
		if bytes.HasPrefix(h.q.Qname, []byte("\x06poison")) {
			panic("poisoned query")
		}
	}
	t.Cleanup(func() { queryHook = nil })
	var src atomic.Pointer[zone.Snapshot]
	src.Store(zonetest.Build(t, map[string]string{"example.com.": zonetest.ExampleCom}))
	var logs testutil.LogBuffer
	var seen panics
	s, err := New(Config{Listen: []string{"127.0.0.1:0"}, UDPReaders: 1, OnPanic: seen.add}, &src, nil, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	s.SetExtended(panicky{})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	addr := s.Addrs()[0].String()

	answered := func(netw string) {
		t.Helper()
		m := new(dns.Msg)
		m.SetQuestion("www.example.com.", dns.TypeA)
		if r := exchange(t, netw, addr, m); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 2 {
			t.Fatalf("%s after a panic: %v", netw, r)
		}
	}
	poison := new(dns.Msg)
	poison.SetQuestion(poisoned, dns.TypeA)
	pkt, _ := poison.Pack()

	// UDP: the one reader panics, recovers, and answers the next query.
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(pkt); err != nil {
		t.Fatal(err)
	}
	seen.wait(t, panicUDP, 1)
	answered("udp")
	// Again: the fresh handler is armed like the first.
	c.Write(pkt)
	seen.wait(t, panicUDP, 2)
	answered("udp")

	// TCP: the connection that panicked is closed; others are served.
	tc := dialFrom(t, "127.0.0.1", addr)
	defer tc.Close()
	out := append([]byte{byte(len(pkt) >> 8), byte(len(pkt))}, pkt...)
	if _, err := tc.Write(out); err != nil {
		t.Fatal(err)
	}
	seen.wait(t, panicTCP, 1)
	waitClosed(t, tc, "the connection whose query panicked")
	answered("tcp")

	// A request handed over on UDP: its goroutine panics alone.
	n := new(dns.Msg)
	n.SetNotify("example.com.")
	b, _ := n.Pack()
	c.Write(b)
	seen.wait(t, panicHandOver, 1)
	answered("udp")

	// A transfer handed over on TCP: the connection's recovery closes it.
	xc := dialFrom(t, "127.0.0.1", addr)
	defer xc.Close()
	x := new(dns.Msg)
	x.SetQuestion("example.com.", dns.TypeAXFR)
	xb, _ := x.Pack()
	if _, err := xc.Write(append([]byte{byte(len(xb) >> 8), byte(len(xb))}, xb...)); err != nil {
		t.Fatal(err)
	}
	seen.wait(t, panicTCP, 2)
	waitClosed(t, xc, "the connection whose transfer panicked")
	answered("tcp")

	log := logs.String()
	for _, want := range []string{"level=ERROR msg=\"panic recovered\" component=dns_udp panic=\"poisoned query\"", "component=dns_tcp", "component=dns_handover", "serveUDPBatches", "runtime/debug.Stack"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	seen.mu.Lock()
	if i := slices.IndexFunc(seen.seen, func(s string) bool { return strings.Contains(s, "no value") }); i >= 0 {
		t.Errorf("OnPanic got %s", seen.seen[i])
	}
	seen.mu.Unlock()
}
