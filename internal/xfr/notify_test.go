package xfr

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/testutil"
)

// secondary is a NOTIFY receiver on loopback that ignores the first drop
// notifies and acknowledges the rest, recording each one's serial and
// whether its signature verified.
type secondary struct {
	mu     sync.Mutex
	drop   int
	got    []uint32
	signed []bool
	srv    *dns.Server
}

func startSecondary(t *testing.T, drop int, key *model.TSIGKey) (*secondary, netip.AddrPort) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &secondary{drop: drop}
	s.srv = &dns.Server{PacketConn: pc, TsigSecret: map[string]string{string(key.Name): key.SecretBase64()},
		Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
			s.mu.Lock()
			defer s.mu.Unlock()
			if r.Opcode != dns.OpcodeNotify || len(r.Answer) != 1 {
				return
			}
			s.got = append(s.got, r.Answer[0].(*dns.SOA).Serial)
			s.signed = append(s.signed, r.IsTsig() != nil && w.TsigStatus() == nil)
			if len(s.got) <= s.drop {
				return
			}
			m := new(dns.Msg)
			m.SetReply(r)
			if r.IsTsig() != nil {
				m.SetTsig(r.IsTsig().Hdr.Name, r.IsTsig().Algorithm, 300, time.Now().Unix())
			}
			w.WriteMsg(m)
		})}
	testutil.ServeDNS(t, s.srv)
	return s, pc.LocalAddr().(*net.UDPAddr).AddrPort()
}

func (s *secondary) seen() ([]uint32, []bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]uint32(nil), s.got...), append([]bool(nil), s.signed...)
}

// TestNotifyRetriesUntilAcknowledged: a secondary that ignores two NOTIFYs
// gets a third, signed, and a later change gets its own round.
func TestNotifyRetriesUntilAcknowledged(t *testing.T) {
	e := newEnv(t, 1)
	sec, addr := startSecondary(t, 2, e.key)
	targets := []model.NotifyTarget{{Address: addr, Key: e.key.Name}}
	// An attempt the secondary ignores ends after Timeout; one it answers
	// must not, even on a loaded machine.
	startNotifier(t, e, targets, NotifierOptions{Delay: 10 * time.Millisecond, Timeout: 2 * time.Second})

	// At start: serial 1, acknowledged on the third attempt (after 1s and
	// 2s of backoff, and 2s each of waiting for an answer).
	waitFor(t, time.Minute, func() bool { got, _ := sec.seen(); return len(got) >= 3 })
	e.change(t, "h0.x.test.", "198.51.100.1") // serial 2
	waitFor(t, time.Minute, func() bool { got, _ := sec.seen(); return len(got) >= 4 && got[len(got)-1] == 2 })
	time.Sleep(200 * time.Millisecond) // no more retries once acknowledged
	got, signed := sec.seen()
	if len(got) != 4 || got[0] != 1 || got[2] != 1 || got[3] != 2 {
		t.Errorf("serials notified %v, want [1 1 1 2]", got)
	}
	for i, ok := range signed {
		if !ok {
			t.Errorf("notify %d not signed with a valid TSIG", i)
		}
	}
}

// startNotifier gives zone x.test. the NOTIFY targets and runs a notifier
// until the test ends; it returns the context the test's own calls use.
func startNotifier(t *testing.T, e *env, targets []model.NotifyTarget, opts NotifierOptions) context.Context {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := e.svc.Zones.UpdateZone(ctx, "x.test.", control.ZoneUpdate{Notify: &targets}, "test"); err != nil {
		cancel()
		t.Fatal(err)
	}
	n := NewNotifier(e.pub, e.svc.Zones, e.svc.TSIGKeys, opts, nil)
	done := make(chan struct{})
	go func() { defer close(done); n.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return ctx
}

func waitFor(t *testing.T, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v", within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestNotifyCoalesces: changes within the delay make one NOTIFY, of the
// latest serial.
func TestNotifyCoalesces(t *testing.T) {
	e := newEnv(t, 1)
	sec, addr := startSecondary(t, 0, e.key)
	targets := []model.NotifyTarget{{Address: addr}}
	const delay = 2 * time.Second // long enough for five changes on a loaded machine
	startNotifier(t, e, targets, NotifierOptions{Delay: delay})
	waitFor(t, time.Minute, func() bool { got, _ := sec.seen(); return len(got) == 1 })
	for i := range 5 {
		e.change(t, "h0.x.test.", netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}).String()) // serials 2..6
	}
	waitFor(t, time.Minute, func() bool { got, _ := sec.seen(); return got[len(got)-1] == 6 })
	time.Sleep(delay + 200*time.Millisecond) // a further round would have come
	if got, signed := sec.seen(); len(got) > 3 || signed[0] {
		t.Errorf("notified serials %v for five changes made together (want them gathered), signed %v", got, signed)
	}
}

// TestChangedZones: new, changed and deleted zones are reported, deleted
// ones as nil, each once.
func TestChangedZones(t *testing.T) {
	e := newEnv(t, 1)
	seen := map[string]uint32{"gone.test.": 7}
	got := changedZones(e.pub.Snapshots().Load(), seen)
	if len(got) != 2 || got["x.test."] == nil || got["gone.test."] != nil {
		t.Fatalf("changed %v", got)
	}
	if _, ok := got["gone.test."]; !ok {
		t.Fatal("the deleted zone is not reported")
	}
	if again := changedZones(e.pub.Snapshots().Load(), seen); len(again) != 0 {
		t.Errorf("reported twice: %v", again)
	}
	e.change(t, "h0.x.test.", "198.51.100.1")
	if got := changedZones(e.pub.Snapshots().Load(), seen); len(got) != 1 || got["x.test."] == nil {
		t.Errorf("after a change: %v", got)
	}
}

// TestNotifyNewTarget: a secondary added to a zone's NOTIFY targets is
// notified of the current serial at once, without a change to the zone;
// a settings change that adds no target notifies nobody again.
func TestNotifyNewTarget(t *testing.T) {
	e := newEnv(t, 1)
	first, addr1 := startSecondary(t, 0, e.key)
	second, addr2 := startSecondary(t, 0, e.key)
	targets := []model.NotifyTarget{{Address: addr1}}
	ctx := startNotifier(t, e, targets, NotifierOptions{Delay: 10 * time.Millisecond})
	waitFor(t, time.Minute, func() bool { got, _ := first.seen(); return len(got) == 1 })

	targets = append(targets, model.NotifyTarget{Address: addr2})
	if _, err := e.svc.Zones.UpdateZone(ctx, "x.test.", control.ZoneUpdate{Notify: &targets}, "test"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Minute, func() bool { got, _ := second.seen(); return len(got) == 1 && got[0] == 1 })

	ttl := uint32(600)
	if _, err := e.svc.Zones.UpdateZone(ctx, "x.test.", control.ZoneUpdate{DefaultTTL: &ttl}, "test"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if got, _ := second.seen(); len(got) != 1 {
		t.Errorf("the new secondary was notified %d times (serials %v), want once", len(got), got)
	}
	if got, _ := first.seen(); len(got) != 2 {
		t.Errorf("the first secondary was notified %d times (serials %v), want twice (at start, and with the new target's round)", len(got), got)
	}
}
