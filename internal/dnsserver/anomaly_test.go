package dnsserver

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/clock"
	"github.com/stratusdns/stratus/internal/zone"
	"github.com/stratusdns/stratus/internal/zone/zonetest"
)

// anomalyEnv is a server on loopback whose anomaly detector runs on a fake
// clock, with DNS clients and the anomalies it reported.
type anomalyEnv struct {
	t     *testing.T
	s     *Server
	clk   *clock.Fake
	conns []*dns.Conn
	rng   *rand.Rand

	mu   sync.Mutex
	seen []Anomaly
}

func newAnomalyEnv(t *testing.T, cfg AnomalyConfig) *anomalyEnv {
	t.Helper()
	e := &anomalyEnv{t: t, clk: clock.NewFake(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)), rng: rand.New(rand.NewPCG(1, 2))}
	cfg.Clock = e.clk
	var src atomic.Pointer[zone.Snapshot]
	src.Store(zonetest.Build(t, map[string]string{"example.com.": zonetest.ExampleCom}))
	// The floods come from one address, far over any rate limit: RRL is
	// off, as it does not change what is counted.
	s, err := New(Config{Listen: []string{"127.0.0.1:0"}, UDPReaders: 2, Anomalies: cfg, RRL: RRLConfig{Disabled: true}}, &src, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.SetAnomalyLog(func(a Anomaly) {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.seen = append(e.seen, a)
	})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	e.s = s
	t.Cleanup(func() {
		for _, c := range e.conns {
			c.Close()
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	for range 2 { // two source ports: most likely two readers
		c, err := dns.Dial("udp", s.Addrs()[0].String())
		if err != nil {
			t.Fatal(err)
		}
		e.conns = append(e.conns, c)
	}
	return e
}

// ask sends n queries for name (each answered before the next), spread
// over the clients, and checks the rcode.
func (e *anomalyEnv) ask(name string, n, rcode int) {
	e.t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeA)
	for i := range n {
		c := e.conns[i%len(e.conns)]
		m.Id = uint16(e.rng.Uint32())
		if err := c.WriteMsg(m); err != nil {
			e.t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(time.Minute))
		r, err := c.ReadMsg()
		if err != nil {
			e.t.Fatalf("%s: %v", name, err)
		}
		if r.Rcode != rcode {
			e.t.Fatalf("%s: rcode %s, want %s", name, dns.RcodeToString[r.Rcode], dns.RcodeToString[rcode])
		}
	}
}

// normal is a second of ordinary mixed traffic: a few names, a few
// NXDOMAIN answers (typos, probes).
func (e *anomalyEnv) normal() {
	e.ask("www.example.com.", 20, dns.RcodeSuccess)
	e.ask("alias.example.com.", 8, dns.RcodeSuccess)
	e.ask("x.wild.example.com.", 5, dns.RcodeSuccess)
	for range 6 {
		e.ask(fmt.Sprintf("typo%d.example.com.", e.rng.IntN(1000)), 1, dns.RcodeNameError)
	}
}

// flood is a second of a random-subdomain flood against example.com.
func (e *anomalyEnv) flood(n int) {
	for range n {
		e.ask(fmt.Sprintf("%08x.example.com.", e.rng.Uint32()), 1, dns.RcodeNameError)
	}
}

// second runs traffic, then ends the second on the fake clock and waits
// until the detector has evaluated it.
func (e *anomalyEnv) second(traffic ...func()) {
	e.t.Helper()
	for _, f := range traffic {
		f()
	}
	want := e.s.anomalies.ticks.Load() + 1
	e.clk.Step(time.Second)
	deadline := time.Now().Add(time.Minute)
	for e.s.anomalies.ticks.Load() < want {
		if time.Now().After(deadline) {
			e.t.Fatalf("the detector did not evaluate second %d", want)
		}
		time.Sleep(time.Millisecond)
	}
}

func (e *anomalyEnv) reported() []Anomaly {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Anomaly(nil), e.seen...)
}

// expect checks the anomalies reported so far: each is key, start or
// end, and its reason holds the given text.
func (e *anomalyEnv) expect(when string, want ...Anomaly) {
	e.t.Helper()
	got := e.reported()
	if len(got) != len(want) {
		e.t.Fatalf("%s: %d anomalies reported, want %d: %+v", when, len(got), len(want), got)
	}
	for i := range want {
		if got[i].Key != want[i].Key || got[i].Start != want[i].Start || !strings.Contains(got[i].Reason, want[i].Reason) {
			e.t.Errorf("%s: anomaly %d is %+v, want key %s, start %v, reason containing %q", when, i, got[i], want[i].Key, want[i].Start, want[i].Reason)
		}
	}
}

// TestAnomalyNXDomainFlood floods example.com. with random names over
// real UDP queries: one event when the flood starts, one when it has been
// over for Quiet, none for the ordinary traffic before and after.
func TestAnomalyNXDomainFlood(t *testing.T) {
	e := newAnomalyEnv(t, AnomalyConfig{NXDomainPerSecond: 100, SpikeMinPerSecond: 1000, Quiet: 5 * time.Second, Window: 3 * time.Second})
	for range 6 {
		e.second(e.normal)
	}
	e.expect("ordinary traffic")
	for range 6 {
		e.second(e.normal, func() { e.flood(300) })
	}
	e.expect("during the flood", Anomaly{Key: "zone:example.com.", Start: true, Reason: "random-subdomain flood: 306 NXDOMAIN answers a second for names in example.com."})
	for range 12 {
		e.second(e.normal)
	}
	e.expect("after the flood",
		Anomaly{Key: "zone:example.com.", Start: true},
		Anomaly{Key: "zone:example.com.", Reason: "random-subdomain flood ended: under 100 NXDOMAIN answers a second for 5s; it lasted 6s, peak 306/s"})
	if got := e.reported(); !got[1].Time.After(got[0].Time) {
		t.Errorf("end %v is not after start %v", got[1].Time, got[0].Time)
	}
}

// TestAnomalyNameSpike makes one name's queries jump from its usual rate:
// one event when the spike starts, one when it has been over for Quiet;
// the ordinary traffic, and a name that is busy from the start, raise
// none.
func TestAnomalyNameSpike(t *testing.T) {
	e := newAnomalyEnv(t, AnomalyConfig{NXDomainPerSecond: 1000, SpikeMinPerSecond: 100, SpikeFactor: 5, Quiet: 4 * time.Second, Window: 5 * time.Second})
	busy := func() { e.ask("chain.example.com.", 150, dns.RcodeSuccess) } // busy all along: its usual rate
	for range 12 {
		e.second(e.normal, busy)
	}
	e.expect("ordinary traffic")
	for range 5 {
		e.second(e.normal, busy, func() { e.ask("wWw.Example.com.", 250, dns.RcodeSuccess) })
	}
	e.expect("during the spike", Anomaly{Key: "name:www.example.com.", Start: true, Reason: " queries a second for www.example.com., usually "})
	for range 10 {
		e.second(e.normal, busy)
	}
	e.expect("after the spike",
		Anomaly{Key: "name:www.example.com.", Start: true},
		Anomaly{Key: "name:www.example.com.", Reason: "/s for 4s; it lasted 5s, peak "})
}

// TestAnomalyCountAllocations checks that counting allocates nothing, at
// a period's end (the table handed over) as within one.
func TestAnomalyCountAllocations(t *testing.T) {
	var src atomic.Pointer[zone.Snapshot]
	src.Store(zonetest.Build(t, map[string]string{"example.com.": zonetest.ExampleCom}))
	d := newDetector(mustAnomalyDefaults(t, AnomalyConfig{SpikeMinPerSecond: 64}), 1, nil)
	h := newHandler(&src, nil, 1232, false)
	h.an = d.reader()
	for _, name := range []string{"www.example.com.", "nope.example.com."} {
		m := new(dns.Msg)
		m.SetQuestion(name, dns.TypeA)
		pkt, _ := m.Pack()
		i := 0
		if n := testing.AllocsPerRun(500, func() {
			if i++; i%100 == 0 {
				d.epoch.Add(1) // a new period: the next query hands its table over
			}
			h.serve(pkt, loopback, false)
		}); n > 0 {
			t.Errorf("%s: %v allocations per query, budget 0", name, n)
		}
	}
}

func mustAnomalyDefaults(t testing.TB, c AnomalyConfig) AnomalyConfig {
	c, err := c.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestAnomalyConfig checks the defaults and the refusals.
func TestAnomalyConfig(t *testing.T) {
	c := mustAnomalyDefaults(t, AnomalyConfig{})
	if c.NXDomainPerSecond != 1000 || c.SpikeMinPerSecond != 500 || c.SpikeFactor != 10 || c.Window != 5*time.Minute || c.Quiet != 30*time.Second {
		t.Errorf("defaults %+v", c)
	}
	for _, bad := range []AnomalyConfig{{NXDomainPerSecond: -1}, {SpikeFactor: 0.5}, {Quiet: -time.Second}} {
		if _, err := bad.withDefaults(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	if newDetector(AnomalyConfig{Disabled: true}, 1, nil).reader() != nil {
		t.Error("a disabled detector counts")
	}
}

// TestNameText checks the names reports show.
func TestNameText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"wWw.Example.com.", "www.example.com."},
		{"*.x_y-1.example.", "*.x_y-1.example."},
		{".", "."},
		{`a\032b.example.`, `a\032b.example.`},
		{`a\027[31m.example.`, `a\027\09131m.example.`},
	} {
		buf := make([]byte, 256)
		n, err := dns.PackDomainName(tc.in, buf, 0, nil, false)
		if err != nil {
			t.Fatal(err)
		}
		if got := nameText(buf[:n]); got != tc.want {
			t.Errorf("nameText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// BenchmarkAnomalyOverhead answers the same queries with counting off and
// on in alternating rounds of 500, so that both see the same load of a
// shared machine, and reports the rates and qps_ratio, the median over
// the pairs of rounds of the rate on over the rate off (1 is no cost).
func BenchmarkAnomalyOverhead(b *testing.B) {
	var src atomic.Pointer[zone.Snapshot]
	src.Store(zonetest.Build(b, map[string]string{"example.com.": zonetest.ExampleCom}))
	var pkts [][]byte
	for _, name := range []string{"www.example.com.", "nope.example.com.", "alias.example.com.", "x.wild.example.com.", "mx.example.com."} {
		m := new(dns.Msg)
		m.SetQuestion(name, dns.TypeA)
		m.SetEdns0(1232, false)
		pkt, _ := m.Pack()
		pkts = append(pkts, pkt)
	}
	off := newHandler(&src, nil, 1232, false)
	on := newHandler(&src, nil, 1232, false)
	d := newDetector(mustAnomalyDefaults(b, AnomalyConfig{}), 1, nil)
	on.an = d.reader()
	const round = 500
	var tOff, tOn time.Duration
	var ratios []float64
	run := func(h *handler) time.Duration {
		start := time.Now()
		for i := range round {
			h.serve(pkts[i%len(pkts)], loopback, false)
		}
		return time.Since(start)
	}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		var a, c time.Duration
		if n%2 == 0 {
			a = run(off)
			c = run(on)
		} else {
			c = run(on)
			a = run(off)
		}
		tOff, tOn = tOff+a, tOn+c
		ratios = append(ratios, a.Seconds()/c.Seconds())
		if n++; n%200 == 0 {
			d.tick(time.Now()) // a period ends now and then, as every second
		}
	}
	slices.Sort(ratios)
	q := float64(n * round)
	b.ReportMetric(q/tOff.Seconds(), "off_q/s")
	b.ReportMetric(q/tOn.Seconds(), "on_q/s")
	b.ReportMetric(ratios[len(ratios)/2], "qps_ratio")
}
