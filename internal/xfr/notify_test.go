package xfr

import (
	"context"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/clock"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/publish"
	"github.com/stratusdns/stratus/internal/store"
	"github.com/stratusdns/stratus/internal/testutil"
)

// secondary is a NOTIFY receiver on loopback that ignores the first drop
// notifies, refuses the next refuse, and acknowledges the rest, recording
// each one's serial and whether its signature verified.
type secondary struct {
	mu           sync.Mutex
	drop, refuse int
	got          []uint32
	signed       []bool
	srv          *dns.Server
}

func startSecondary(t *testing.T, drop, refuse int, key *model.TSIGKey) (*secondary, netip.AddrPort) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &secondary{drop: drop, refuse: refuse}
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
			if len(s.got) <= s.drop+s.refuse {
				m.Rcode = dns.RcodeRefused
			}
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

// TestNotifyRetriesUntilAcknowledged: a secondary that ignores a NOTIFY
// and refuses the next gets a third, signed, after 1s and 2s of backoff
// on the clock; once it acknowledges there are no more retries, and a
// later change gets its own round.
func TestNotifyRetriesUntilAcknowledged(t *testing.T) {
	e := newEnv(t, 1)
	sec, addr := startSecondary(t, 1, 1, e.key)
	targets := []model.NotifyTarget{{Address: addr, Key: e.key.Name}}
	// An attempt the secondary ignores ends after Timeout; one it answers
	// must not, even on a loaded machine.
	r := startNotifier(t, e, targets, NotifierOptions{Timeout: 2 * time.Second})

	// At start: serial 1, acknowledged on the third attempt.
	r.stepDelay(t)
	r.step(t, time.Second)                    // the backoff after the ignored attempt
	r.step(t, 2*time.Second)                  // the backoff after the refused one
	r.settle(t)                               // acknowledged
	e.change(t, "h0.x.test.", "198.51.100.1") // serial 2
	r.stepDelay(t)
	r.settle(t)
	r.clock.Step(time.Hour) // past any retry: none comes once acknowledged
	r.settle(t)
	got, signed := sec.seen()
	if len(got) != 4 || got[0] != 1 || got[2] != 1 || got[3] != 2 {
		t.Errorf("serials notified %v, want [1 1 1 2]", got)
	}
	for i, ok := range signed {
		if !ok {
			t.Errorf("notify %d not signed with a valid TSIG", i)
		}
	}
	if n := r.clock.Armed(); n != 0 {
		t.Errorf("%d timers armed once every NOTIFY was acknowledged", n)
	}
}

// followed is the notifier's view of the publisher; it records the
// revision the notifier last waited for.
type followed struct {
	*publish.Publisher
	asked atomic.Int64
}

func (f *followed) WaitFor(ctx context.Context, rev store.Revision) error {
	f.asked.Store(rev)
	return f.Publisher.WaitFor(ctx, rev)
}

// notifierRun is a notifier running on a fake clock.
type notifierRun struct {
	ctx   context.Context // the context the test's own calls use
	n     *Notifier
	pub   *followed
	clock *clock.Fake
}

// startNotifier gives zone x.test. the NOTIFY targets and runs a notifier
// on a fake clock until the test ends.
func startNotifier(t *testing.T, e *env, targets []model.NotifyTarget, opts NotifierOptions) *notifierRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := e.svc.Zones.UpdateZone(ctx, "x.test.", control.ZoneUpdate{Notify: &targets}, "test"); err != nil {
		cancel()
		t.Fatal(err)
	}
	r := &notifierRun{ctx: ctx, pub: &followed{Publisher: e.pub}, clock: clock.NewFake(time.Now())}
	opts.Clock = r.clock
	r.n = NewNotifier(r.pub, e.svc.Zones, e.svc.TSIGKeys, opts, nil)
	done := make(chan struct{})
	go func() { defer close(done); r.n.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return r
}

// step waits until the notifier waits for a timer to fire d from now,
// then moves the clock by d.
func (r *notifierRun) step(t *testing.T, d time.Duration) {
	t.Helper()
	when := r.clock.Now().Add(d)
	waitFor(t, time.Minute, func() bool { return r.clock.ArmedAt(when) > 0 })
	r.clock.Step(d)
}

// stepDelay ends the notifier's wait of Delay for changes to gather.
func (r *notifierRun) stepDelay(t *testing.T) {
	t.Helper()
	r.step(t, r.n.opts.Delay)
}

// settle waits until the notifier has acted on every published revision
// and every round and NOTIFY it started has ended.
func (r *notifierRun) settle(t *testing.T) {
	t.Helper()
	rev := r.pub.Revision()
	waitFor(t, time.Minute, func() bool { return r.pub.asked.Load() > rev && r.n.busy.Load() == 0 })
}

func waitFor(t *testing.T, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v", within)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestNotifyCoalesces: changes within the delay make one NOTIFY, of the
// latest serial, and no further round follows.
func TestNotifyCoalesces(t *testing.T) {
	e := newEnv(t, 1)
	sec, addr := startSecondary(t, 0, 0, e.key)
	targets := []model.NotifyTarget{{Address: addr}}
	r := startNotifier(t, e, targets, NotifierOptions{})
	r.stepDelay(t)
	r.settle(t)
	for i := range 5 {
		e.change(t, "h0.x.test.", netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}).String()) // serials 2..6
	}
	r.stepDelay(t)
	r.settle(t)
	r.clock.Step(time.Hour) // a further round would have come
	r.settle(t)
	if got, signed := sec.seen(); len(got) != 2 || got[0] != 1 || got[1] != 6 || signed[0] {
		t.Errorf("notified serials %v for five changes made together (want [1 6]), signed %v", got, signed)
	}
}

// stallingSource is a NotifySource whose RRsets (read by a round, not by
// Run) waits for the round's end, then is slow to return.
type stallingSource struct {
	NotifySource
	entered chan struct{}
	ended   atomic.Bool
}

func (s *stallingSource) RRsets(ctx context.Context, z model.Name, f control.RRsetFilter) ([]*model.RRset, uint32, error) {
	close(s.entered)
	<-ctx.Done()
	for range 100 {
		runtime.Gosched()
	}
	s.ended.Store(true)
	return nil, 0, ctx.Err()
}

// TestNotifierRunWaitsForItsRounds: Run returns only once the rounds it
// started have ended, so none of them reads a store being closed.
func TestNotifierRunWaitsForItsRounds(t *testing.T) {
	e := newEnv(t, 1)
	_, addr := startSecondary(t, 0, 0, e.key)
	targets := []model.NotifyTarget{{Address: addr}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := e.svc.Zones.UpdateZone(ctx, "x.test.", control.ZoneUpdate{Notify: &targets}, "test"); err != nil {
		t.Fatal(err)
	}
	src := &stallingSource{NotifySource: e.svc.Zones, entered: make(chan struct{})}
	fake := clock.NewFake(time.Now())
	n := NewNotifier(e.pub, src, e.svc.TSIGKeys, NotifierOptions{Clock: fake}, nil)
	done := make(chan struct{})
	go func() { defer close(done); n.Run(ctx) }()
	when := fake.Now().Add(n.opts.Delay)
	waitFor(t, time.Minute, func() bool { return fake.ArmedAt(when) > 0 })
	fake.Step(n.opts.Delay)
	<-src.entered
	cancel()
	<-done
	if !src.ended.Load() {
		t.Error("Run returned while a round it started was still reading the zone")
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
	first, addr1 := startSecondary(t, 0, 0, e.key)
	second, addr2 := startSecondary(t, 0, 0, e.key)
	targets := []model.NotifyTarget{{Address: addr1}}
	r := startNotifier(t, e, targets, NotifierOptions{})
	r.stepDelay(t)
	r.settle(t)

	targets = append(targets, model.NotifyTarget{Address: addr2})
	if _, err := e.svc.Zones.UpdateZone(r.ctx, "x.test.", control.ZoneUpdate{Notify: &targets}, "test"); err != nil {
		t.Fatal(err)
	}
	r.stepDelay(t)
	r.settle(t)
	if got, _ := second.seen(); len(got) != 1 || got[0] != 1 {
		t.Fatalf("the new secondary was notified of serials %v, want [1]", got)
	}

	ttl := uint32(600)
	if _, err := e.svc.Zones.UpdateZone(r.ctx, "x.test.", control.ZoneUpdate{DefaultTTL: &ttl}, "test"); err != nil {
		t.Fatal(err)
	}
	r.stepDelay(t)
	r.settle(t)
	r.clock.Step(time.Hour) // a further round would have come
	r.settle(t)
	if got, _ := second.seen(); len(got) != 1 {
		t.Errorf("the new secondary was notified %d times (serials %v), want once", len(got), got)
	}
	if got, _ := first.seen(); len(got) != 2 {
		t.Errorf("the first secondary was notified %d times (serials %v), want twice (at start, and with the new target's round)", len(got), got)
	}
}
