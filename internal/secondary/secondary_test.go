package secondary

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/alert"
	"github.com/stratusdns/stratus/internal/clock"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/control/controltest"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/testutil"
)

// primary is a primary on loopback whose answers the test controls: the
// SOA serial it announces, whether its transfers break off midway, and
// whether it answers at all (SERVFAIL when failing).
type primary struct {
	mu      sync.Mutex
	serial  uint32
	partial bool
	endless bool // transfers never end: messages of records until the secondary hangs up
	failing bool
	refuse  bool // transfers answered REFUSED
	addr    netip.AddrPort
}

// The SOA timers the primary announces.
const (
	refresh = 3600 * time.Second
	retry   = 600 * time.Second
	expire  = 7200 * time.Second
)

func (p *primary) soa() *dns.SOA {
	return &dns.SOA{Hdr: dns.RR_Header{Name: "sec.test.", Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 60},
		Ns: "ns1.sec.test.", Mbox: "h.sec.test.", Serial: p.serial,
		Refresh: uint32(refresh / time.Second), Retry: uint32(retry / time.Second), Expire: uint32(expire / time.Second), Minttl: 60}
}

func (p *primary) serve(w dns.ResponseWriter, r *dns.Msg) {
	p.mu.Lock()
	defer p.mu.Unlock()
	m := new(dns.Msg)
	m.SetReply(r)
	m.Authoritative = true
	if p.failing {
		m.Rcode = dns.RcodeServerFailure
		w.WriteMsg(m)
		return
	}
	soa := p.soa()
	switch r.Question[0].Qtype {
	case dns.TypeSOA:
		m.Answer = []dns.RR{soa}
		w.WriteMsg(m)
	case dns.TypeAXFR, dns.TypeIXFR:
		if p.refuse {
			m.Rcode = dns.RcodeRefused
			w.WriteMsg(m)
			return
		}
		ns := &dns.NS{Hdr: dns.RR_Header{Name: "sec.test.", Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: 60}, Ns: "ns1.sec.test."}
		m.Answer = []dns.RR{soa, ns}
		for i := range 50 {
			m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: fmt.Sprintf("h%d.sec.test.", i), Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60},
				A: net.IPv4(192, 0, 2, byte(p.serial))})
		}
		if p.endless {
			for i := 0; i < 10000 && w.WriteMsg(m) == nil; i++ {
				m.Answer = m.Answer[:0]
				for j := range 100 {
					m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: fmt.Sprintf("e%d-%d.sec.test.", i, j), Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60},
						A: net.IPv4(192, 0, 2, 1)})
				}
			}
			w.Close()
			return
		}
		if p.partial {
			w.WriteMsg(m) // no closing SOA: the connection just ends
			w.Close()
			return
		}
		m.Answer = append(m.Answer, soa)
		w.WriteMsg(m)
	}
}

func startPrimary(t *testing.T) *primary {
	t.Helper()
	p := &primary{serial: 1}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	p.addr = l.Addr().(*net.TCPAddr).AddrPort()
	for _, s := range []*dns.Server{{Listener: l, Handler: dns.HandlerFunc(p.serve)}, {PacketConn: pc, Handler: dns.HandlerFunc(p.serve)}} {
		testutil.ServeDNS(t, s)
	}
	return p
}

func newService(t *testing.T) *control.Plane {
	svc, _ := controltest.New(t, control.Options{})
	return svc
}

func waitZone(t *testing.T, svc *control.Plane, what string, cond func(model.ZoneInfo) bool) model.ZoneInfo {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		z, err := svc.Zones.GetZone(context.Background(), "sec.test.")
		if err == nil && cond(z) {
			return z
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: zone %+v (%v)", what, z, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestPartialTransferKeepsData: a transfer that breaks off midway is not
// applied; the zone keeps its data and serial, and records the error.
func TestPartialTransferKeepsData(t *testing.T) {
	p := startPrimary(t)
	svc := newService(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := svc.Secondaries.CreateSecondaryZone(ctx, model.ZoneSettings{Name: "sec.test.", Primaries: []model.NotifyTarget{{Address: p.addr}}}, "test"); err != nil {
		t.Fatal(err)
	}
	m := New(svc.Secondaries, svc.TSIGKeys, Options{Clock: clock.NewFake(time.Now())}, nil) // never stepped: only NOTIFY refreshes
	done := make(chan struct{})
	go func() { defer close(done); m.Run(ctx) }()
	defer func() { cancel(); <-done }()

	z := waitZone(t, svc, "the first transfer", func(z model.ZoneInfo) bool { return z.Serial == 1 })
	if z.Records != 52 || z.Secondary.Refreshed.IsZero() {
		t.Fatalf("after the first transfer: %+v", z)
	}

	p.mu.Lock()
	p.serial, p.partial = 2, true
	p.mu.Unlock()
	if known, allowed, err := m.Notify(ctx, "sec.test.", "", netip.MustParseAddr("127.0.0.1"), nil); !known || !allowed || err != nil {
		t.Fatalf("notify from the primary: known %v allowed %v err %v", known, allowed, err)
	}
	z = waitZone(t, svc, "the failure recorded", func(z model.ZoneInfo) bool { return z.Secondary.LastError != "" })
	if z.Serial != 1 || z.Records != 52 {
		t.Errorf("a partial transfer changed the zone: %+v", z)
	}
	sets, _, err := svc.Zones.RRsets(ctx, "sec.test.", control.RRsetFilter{Name: "h0.sec.test.", Type: model.TypeA})
	if err != nil || len(sets) != 1 || sets[0].Rdata[0][3] != 1 {
		t.Errorf("h0 after the partial transfer: %v %v", sets, err)
	}
	// Someone else may not notify.
	if _, allowed, _ := m.Notify(ctx, "sec.test.", "", netip.MustParseAddr("127.0.0.9"), nil); allowed {
		t.Error("a NOTIFY from another address is allowed")
	}

	p.mu.Lock()
	p.partial = false
	p.mu.Unlock()
	m.Notify(ctx, "sec.test.", "", netip.MustParseAddr("127.0.0.1"), nil)
	z = waitZone(t, svc, "the complete transfer", func(z model.ZoneInfo) bool { return z.Serial == 2 && z.Secondary.LastError == "" })
	if z.Records != 52 {
		t.Errorf("after the complete transfer: %+v", z)
	}
}

// TestRefreshRetryExpire: on the clock, a zone is refreshed every SOA
// refresh interval, retried every retry interval while its primary
// fails, and expired once no primary answered for the expire interval,
// not before.
func TestRefreshRetryExpire(t *testing.T) {
	p := startPrimary(t)
	svc := newService(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := svc.Secondaries.CreateSecondaryZone(ctx, model.ZoneSettings{Name: "sec.test.", Primaries: []model.NotifyTarget{{Address: p.addr}}}, "test"); err != nil {
		t.Fatal(err)
	}
	fake := clock.NewFake(time.Now())
	rec := &alerts{}
	m := New(svc.Secondaries, svc.TSIGKeys, Options{Clock: fake, Alerts: rec}, nil)
	done := make(chan struct{})
	go func() { defer close(done); m.Run(ctx) }()
	defer func() { cancel(); <-done }()
	// step waits until the zone's loop waits d from now (it is done
	// with its refresh), then moves the clock by d.
	step := func(d time.Duration) {
		t.Helper()
		when := fake.Now().Add(d)
		waitFor(t, "the refresh loop to wait "+d.String(), func() bool { return fake.ArmedAt(when) > 0 })
		fake.Step(d)
	}

	waitZone(t, svc, "the first transfer", func(z model.ZoneInfo) bool { return z.Serial == 1 })
	p.mu.Lock()
	p.serial = 2
	p.mu.Unlock()
	step(refresh)
	waitZone(t, svc, "the refresh", func(z model.ZoneInfo) bool { return z.Serial == 2 })
	lastOK := fake.Now()

	p.mu.Lock()
	p.failing = true
	p.mu.Unlock()
	step(refresh)
	waitZone(t, svc, "the failure recorded", func(z model.ZoneInfo) bool { return z.Secondary.LastError != "" })
	for fake.Now().Sub(lastOK) < expire {
		step(retry)
	}
	// The retry at the expire time has failed too: the loop waits for the
	// next one, and the zone is still served.
	waitFor(t, "the retry at the expire time", func() bool { return fake.ArmedAt(fake.Now().Add(retry)) > 0 })
	if z, err := svc.Zones.GetZone(ctx, "sec.test."); err != nil || z.Secondary.Expired || z.Serial != 2 {
		t.Fatalf("at the expire time: %+v %v, want serial 2, not expired", z, err)
	}
	if got := rec.events(); len(got) != 0 {
		t.Fatalf("alerts before the expiry: %+v", got)
	}
	step(retry)
	waitZone(t, svc, "the expiry", func(z model.ZoneInfo) bool { return z.Secondary.Expired })
	waitFor(t, "the secondary_expired alert", func() bool { return len(rec.events()) == 1 })
	if ev := rec.events()[0]; ev.Kind != alert.SecondaryExpired || ev.Zone != "sec.test." || ev.Details["last_error"] == "" {
		t.Errorf("alert %+v", ev)
	}

	p.mu.Lock()
	p.failing = false
	p.mu.Unlock()
	step(retry) // the expiring attempt set the next retry
	waitZone(t, svc, "the transfer after expiry", func(z model.ZoneInfo) bool { return !z.Secondary.Expired && z.Serial == 2 })
}

// waitFor polls cond until it holds, for at most a minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestParseIncremental(t *testing.T) {
	soa := func(serial uint32) dns.RR {
		return &dns.SOA{Hdr: dns.RR_Header{Name: "sec.test.", Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 60}, Ns: "ns1.sec.test.", Mbox: "h.sec.test.", Serial: serial}
	}
	a := func(name string, last byte) dns.RR {
		return &dns.A{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.IPv4(192, 0, 2, last)}
	}
	deltas, head, err := parseIncremental("sec.test.", []dns.RR{soa(3), soa(1), a("x.sec.test.", 1), soa(2), a("x.sec.test.", 2), soa(2), soa(3), a("y.sec.test.", 3), soa(3)})
	if err != nil || head.Serial != 3 || len(deltas) != 2 {
		t.Fatalf("%v %v %v", deltas, head, err)
	}
	if d := deltas[0]; d.From != 1 || d.To != 2 || len(d.Removed) != 1 || len(d.Added) != 1 {
		t.Errorf("first delta %+v", d)
	}
	if d := deltas[1]; d.From != 2 || d.To != 3 || len(d.Removed) != 0 || len(d.Added) != 1 {
		t.Errorf("second delta %+v", d)
	}
	for name, rrs := range map[string][]dns.RR{
		"no closing SOA":       {soa(3), soa(1), a("x.sec.test.", 1), soa(3), a("y.sec.test.", 2)},
		"not chained":          {soa(3), soa(1), soa(2), soa(5), soa(3), soa(3)},
		"ends short of serial": {soa(3), soa(1), soa(2), soa(3)},
		"outside the zone":     {soa(2), soa(1), a("x.other.test.", 1), soa(2), soa(2)},
	} {
		if _, _, err := parseIncremental("sec.test.", rrs); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// slowLoad is a Store whose first transfer in is slow to finish and does
// not heed its context, as a store write under a stalled disk.
type slowLoad struct {
	Store
	entered, release chan struct{}
	loopCtx          context.Context // the context of the transfer's loop
	finished         atomic.Bool
}

func (s *slowLoad) LoadFromPrimary(ctx context.Context, z model.Name, sets []*model.RRset, primary string) (control.ChangeResult, error) {
	s.loopCtx = ctx
	close(s.entered)
	<-s.release
	s.finished.Store(true)
	return s.Store.LoadFromPrimary(ctx, z, sets, primary)
}

// TestRunWaitsForTheLoopOfADeletedZone: the refresh loop of a zone
// deleted while it works is waited for, so it never outlives Run (and
// never writes to a store being closed).
func TestRunWaitsForTheLoopOfADeletedZone(t *testing.T) {
	p := startPrimary(t)
	svc := newService(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := svc.Secondaries.CreateSecondaryZone(ctx, model.ZoneSettings{Name: "sec.test.", Primaries: []model.NotifyTarget{{Address: p.addr}}}, "test"); err != nil {
		t.Fatal(err)
	}
	st := &slowLoad{Store: svc.Secondaries, entered: make(chan struct{}), release: make(chan struct{})}
	fake := clock.NewFake(time.Now())
	m := New(st, svc.TSIGKeys, Options{Clock: fake}, nil)
	done := make(chan struct{})
	go func() { defer close(done); m.Run(ctx) }()
	<-st.entered // the loop is in its first transfer
	if err := svc.Zones.DeleteZone(ctx, "sec.test.", control.WriteOptions{Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	resync := fake.Now().Add(m.opts.Resync)
	waitFor(t, "the manager to wait for its next resync", func() bool { return fake.ArmedAt(resync) > 0 })
	fake.Step(m.opts.Resync) // the manager reads the zones again: sec.test. is gone
	<-st.loopCtx.Done()      // and stops the zone's loop
	cancel()
	select {
	case <-done:
		if !st.finished.Load() {
			t.Fatal("Run returned while the loop of the deleted zone was still in its transfer")
		}
	case <-time.After(500 * time.Millisecond):
		// Run is waiting for the loop, as it must; let the loop finish.
		// (Nothing shows that Run waits but that it has not returned: a
		// Run that returned later than this would go unseen here, never
		// the other way round.)
	}
	close(st.release)
	<-done
}

// alerts records the alerts emitted.
type alerts struct {
	mu  sync.Mutex
	got []alert.Event
}

func (a *alerts) Emit(ev alert.Event) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.got = append(a.got, ev)
}

func (a *alerts) events() []alert.Event {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]alert.Event(nil), a.got...)
}
