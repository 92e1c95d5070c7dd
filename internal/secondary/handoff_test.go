package secondary

import (
	"context"
	"encoding/json"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/clock"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/control/controltest"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/publish"
	"github.com/stratusdns/stratus/internal/store"
	"github.com/stratusdns/stratus/internal/store/local"
)

var primaryAddr = netip.MustParseAddr("127.0.0.1")

// cluster is two nodes on one store: a leader that runs the refresh
// loops and follows the hand-overs, and a follower that hands its NOTIFY
// messages over. Their clocks never move: only NOTIFY refreshes.
type cluster struct {
	svc              *control.Plane
	pub              *publish.Publisher
	shared           *local.Cluster
	leader, follower *Manager
	fsess            store.Session
	hand             *handoff
	ctx              context.Context
	wg               sync.WaitGroup
}

func newCluster(t *testing.T, p *primary) *cluster {
	t.Helper()
	c := &cluster{shared: local.New()}
	c.svc, c.pub = controltest.New(t, control.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	c.ctx = ctx
	t.Cleanup(func() { cancel(); c.wg.Wait() })
	if _, err := c.svc.Secondaries.CreateSecondaryZone(ctx, model.ZoneSettings{Name: "sec.test.", Primaries: []model.NotifyTarget{{Address: p.addr}}}, "test"); err != nil {
		t.Fatal(err)
	}
	c.leader = New(c.svc.Secondaries, c.svc.TSIGKeys, Options{Clock: clock.NewFake(time.Now())}, nil)
	c.follower = New(&countingStore{Store: c.svc.Secondaries}, c.svc.TSIGKeys, Options{Clock: clock.NewFake(time.Now())}, nil)
	sess, err := c.shared.Session(ctx, "b", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.fsess = &countingSession{Session: sess}
	c.go_(func() { c.leader.Run(ctx) })
	c.go_(func() { c.follower.Handoff(ctx, c.fsess, c.pub) })
	waitFor(t, "the follower's hand-over", func() bool {
		c.follower.mu.Lock()
		defer c.follower.mu.Unlock()
		c.hand = c.follower.hand
		return c.hand != nil
	})
	waitZone(t, c.svc, "the first transfer", func(z model.ZoneInfo) bool { return z.Serial == 1 })
	return c
}

func (c *cluster) go_(f func()) {
	c.wg.Add(1)
	go func() { defer c.wg.Done(); f() }()
}

// follow starts the leader's following of the hand-overs.
func (c *cluster) follow(t *testing.T) {
	t.Helper()
	sess, err := c.shared.Session(c.ctx, "a", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.go_(func() { c.leader.FollowHandoffs(c.ctx, sess) })
}

// keys returns the hand-over keys live now.
func (c *cluster) keys(t *testing.T) map[string]notice {
	t.Helper()
	evs, err := c.fsess.List(c.ctx, NotifyPrefix)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]notice{}
	for _, ev := range evs {
		var n notice
		if err := json.Unmarshal(ev.Value, &n); err != nil {
			t.Fatal(err)
		}
		out[ev.Key] = n
	}
	return out
}

func (p *primary) setSerial(s uint32) {
	p.mu.Lock()
	p.serial = s
	p.mu.Unlock()
}

func ptr(s uint32) *uint32 { return &s }

// TestNotifyHandedToTheLeader: a node that does not run the refresh loops
// answers a NOTIFY as the node that does (a secondary zone, from its
// primary: accepted; from anyone else: refused; another zone: not
// known), and an accepted one makes the leader refresh the zone at once
// through an ephemeral key, which goes once the zone is served at the
// serial announced.
func TestNotifyHandedToTheLeader(t *testing.T) {
	p := startPrimary(t)
	c := newCluster(t, p)
	c.follow(t)

	known, allowed, err := c.follower.Notify(c.ctx, "sec.test.", "", netip.MustParseAddr("127.0.0.9"), ptr(2))
	if !known || allowed || err != nil {
		t.Errorf("NOTIFY from a stranger: known %v allowed %v err %v, want known and refused", known, allowed, err)
	}
	known, allowed, err = c.follower.Notify(c.ctx, "other.test.", "", primaryAddr, ptr(2))
	if known || allowed || err != nil {
		t.Errorf("NOTIFY for another zone: known %v allowed %v err %v, want not known", known, allowed, err)
	}
	if k := c.keys(t); len(k) != 0 {
		t.Fatalf("refused NOTIFY messages were handed over: %v", k)
	}

	p.setSerial(2)
	known, allowed, err = c.follower.Notify(c.ctx, "sec.test.", "", primaryAddr, ptr(2))
	if !known || !allowed || err != nil {
		t.Fatalf("NOTIFY from the primary: known %v allowed %v err %v", known, allowed, err)
	}
	k := c.keys(t)
	if n, ok := k[NotifyPrefix+"b/sec.test."]; !ok || n.Zone != "sec.test." || n.Serial == nil || *n.Serial != 2 {
		t.Fatalf("hand-over keys %v, want one for sec.test. at serial 2", k)
	}
	waitZone(t, c.svc, "the refresh the NOTIFY started", func(z model.ZoneInfo) bool { return z.Serial == 2 })
	waitFor(t, "the hand-over key to go", func() bool { return len(c.keys(t)) == 0 })

	// The leader answers for itself: nothing is handed over.
	p.setSerial(3)
	if known, allowed, err := c.leader.Notify(c.ctx, "sec.test.", "", primaryAddr, ptr(3)); !known || !allowed || err != nil {
		t.Fatalf("NOTIFY at the leader: known %v allowed %v err %v", known, allowed, err)
	}
	waitZone(t, c.svc, "the leader's refresh", func(z model.ZoneInfo) bool { return z.Serial == 3 })
	if k := c.keys(t); len(k) != 0 {
		t.Errorf("the leader handed over a NOTIFY: %v", k)
	}

	// Once the session has ended the hand-over fails, and says so.
	c.fsess.Close()
	if _, _, err := c.follower.Notify(c.ctx, "sec.test.", "", primaryAddr, ptr(4)); err == nil {
		t.Error("a hand-over through an ended session succeeded")
	}
}

// TestNotifyHandedOverBeforeTheLeaderFollows: keys put before the leader
// follows them (a new leader, or a watch resumed after a gap) arrive in
// its first batch and start a refresh, though its loop already ran.
func TestNotifyHandedOverBeforeTheLeaderFollows(t *testing.T) {
	p := startPrimary(t)
	c := newCluster(t, p)
	p.setSerial(2)
	if _, allowed, err := c.follower.Notify(c.ctx, "sec.test.", "", primaryAddr, nil); !allowed || err != nil {
		t.Fatalf("NOTIFY from the primary: allowed %v err %v", allowed, err)
	}
	if z, err := c.svc.Zones.GetZone(c.ctx, "sec.test."); err != nil || z.Serial != 1 {
		t.Fatalf("refreshed before anyone followed the hand-over: %+v %v", z, err)
	}
	c.follow(t)
	waitZone(t, c.svc, "the refresh the first batch started", func(z model.ZoneInfo) bool { return z.Serial == 2 })
	// The NOTIFY named no serial: any newer one settles it.
	waitFor(t, "the hand-over key to go", func() bool { return len(c.keys(t)) == 0 })
}

// TestNotifyHandOversInARow: a second NOTIFY handed over before the first
// is settled replaces it and is not settled by the first one's serial, so
// the leader hears of both.
func TestNotifyHandOversInARow(t *testing.T) {
	p := startPrimary(t)
	c := newCluster(t, p)
	for _, s := range []uint32{2, 3} {
		if _, allowed, err := c.follower.Notify(c.ctx, "sec.test.", "", primaryAddr, ptr(s)); !allowed || err != nil {
			t.Fatalf("NOTIFY for serial %d: allowed %v err %v", s, allowed, err)
		}
	}
	key := NotifyPrefix + "b/sec.test."
	if n := c.keys(t)[key]; n.Serial == nil || *n.Serial != 3 || n.Seq != 2 {
		t.Fatalf("key after two NOTIFY messages: %+v, want serial 3, sequence 2", n)
	}

	// The zone reaches serial 2 (the first NOTIFY's): the key stays.
	p.setSerial(2)
	c.follow(t)
	waitZone(t, c.svc, "serial 2", func(z model.ZoneInfo) bool { return z.Serial == 2 })
	rev := c.pub.Revision()
	waitFor(t, "the follower to settle at serial 2", func() bool { return c.hand.settledAt() >= int64(rev) })
	if n, ok := c.keys(t)[key]; !ok || *n.Serial != 3 {
		t.Fatalf("serial 2 settled the NOTIFY for serial 3: keys %v", c.keys(t))
	}

	// The serial the key announces, announced again, writes nothing; so
	// does an older one, or one without a serial while the zone serves 2.
	puts := c.countPuts()
	for _, s := range []*uint32{ptr(3), ptr(2), nil} {
		if _, allowed, err := c.follower.Notify(c.ctx, "sec.test.", "", primaryAddr, s); !allowed || err != nil {
			t.Fatalf("NOTIFY again: allowed %v err %v", allowed, err)
		}
	}
	if n := puts(); n != 0 {
		t.Errorf("%d writes for NOTIFY messages the key announces already, want 0", n)
	}
	if n := c.keys(t)[key]; n.Serial == nil || *n.Serial != 3 || n.Seq != 2 {
		t.Fatalf("key after the repeated NOTIFY messages: %+v, want serial 3, sequence 2", n)
	}

	// The zone reaches serial 3: the key goes.
	p.setSerial(3)
	if _, allowed, _ := c.leader.Notify(c.ctx, "sec.test.", "", primaryAddr, ptr(3)); !allowed {
		t.Fatal("the leader refused the NOTIFY")
	}
	waitZone(t, c.svc, "serial 3", func(z model.ZoneInfo) bool { return z.Serial == 3 })
	waitFor(t, "the hand-over key to go", func() bool { return len(c.keys(t)) == 0 })
}

// countingSession counts the keys it puts.
// While hold is set, Put tells entered and waits for hold to close.
type countingSession struct {
	store.Session
	mu      sync.Mutex
	puts    int
	hold    chan struct{}
	entered chan struct{}
}

func (s *countingSession) Put(ctx context.Context, key string, value []byte) error {
	s.mu.Lock()
	s.puts++
	hold, entered := s.hold, s.entered
	s.mu.Unlock()
	if hold != nil {
		close(entered)
		<-hold
	}
	return s.Session.Put(ctx, key, value)
}

// countPuts returns the number of keys the follower has put since.
func (c *cluster) countPuts() func() int {
	cs := c.hand.sess.(*countingSession)
	cs.mu.Lock()
	base := cs.puts
	cs.mu.Unlock()
	return func() int { cs.mu.Lock(); defer cs.mu.Unlock(); return cs.puts - base }
}

// countingStore counts the reads of a Store.
type countingStore struct {
	Store
	mu    sync.Mutex
	reads int
}

func (s *countingStore) read() {
	s.mu.Lock()
	s.reads++
	s.mu.Unlock()
}

func (s *countingStore) count() int { s.mu.Lock(); defer s.mu.Unlock(); return s.reads }

func (s *countingStore) SecondaryZones(ctx context.Context) ([]control.SecondaryZone, error) {
	s.read()
	return s.Store.SecondaryZones(ctx)
}

func (s *countingStore) SecondaryZone(ctx context.Context, z model.Name) (control.SecondaryZone, bool, error) {
	s.read()
	return s.Store.SecondaryZone(ctx, z)
}

// TestNotifyFollowerReadsNothing: on a node that hands its NOTIFY
// messages over, one for a zone that is no secondary zone here, or for a
// secondary zone from a sender it does not allow, reads nothing from the
// store (spoofed datagrams cost no store reads), and NOTIFY messages for
// one serial, repeated, put one key.
func TestNotifyFollowerReadsNothing(t *testing.T) {
	p := startPrimary(t)
	c := newCluster(t, p)
	st := c.follower.st.(*countingStore)
	waitFor(t, "the follower to read the secondary zones", func() bool {
		_, _, read := c.hand.zone("sec.test.")
		return read
	})
	reads := st.count()
	for _, tc := range []struct {
		zone                  model.Name
		from                  string
		wantKnown, wantAllows bool
	}{
		{"nope.test.", "127.0.0.1", false, false},
		{"other.nope.", "192.0.2.9", false, false},
		{"sec.test.", "192.0.2.9", true, false},
		{"sec.test.", "127.0.0.2", true, false},
	} {
		known, allowed, err := c.follower.Notify(c.ctx, tc.zone, "", netip.MustParseAddr(tc.from), ptr(7))
		if known != tc.wantKnown || allowed != tc.wantAllows || err != nil {
			t.Errorf("NOTIFY for %s from %s: known %v allowed %v err %v", tc.zone, tc.from, known, allowed, err)
		}
	}
	if n := st.count() - reads; n != 0 {
		t.Errorf("%d store reads for NOTIFY messages not heeded, want 0", n)
	}
	puts := c.countPuts()
	for range 3 {
		if _, allowed, err := c.follower.Notify(c.ctx, "sec.test.", "", primaryAddr, ptr(5)); !allowed || err != nil {
			t.Fatalf("NOTIFY from the primary: allowed %v err %v", allowed, err)
		}
	}
	if n := puts(); n != 1 {
		t.Errorf("%d keys put for three NOTIFY messages of serial 5, want 1", n)
	}
	if n := st.count() - reads; n != 0 {
		t.Errorf("%d store reads for NOTIFY messages, want 0", n)
	}
}

// TestNotifyAloneUnchanged: without Handoff a node answers NOTIFY only for
// the zones of its own refresh loops, as a node alone always has: NOTAUTH
// while Run is not under way, and no key is put.
func TestNotifyAloneUnchanged(t *testing.T) {
	p := startPrimary(t)
	svc := newService(t)
	if _, err := svc.Secondaries.CreateSecondaryZone(context.Background(), model.ZoneSettings{Name: "sec.test.", Primaries: []model.NotifyTarget{{Address: p.addr}}}, "test"); err != nil {
		t.Fatal(err)
	}
	m := New(svc.Secondaries, svc.TSIGKeys, Options{Clock: clock.NewFake(time.Now())}, nil)
	if known, allowed, err := m.Notify(context.Background(), "sec.test.", "", primaryAddr, ptr(2)); known || allowed || err != nil {
		t.Errorf("NOTIFY without Run or Handoff: known %v allowed %v err %v, want not known", known, allowed, err)
	}
}

// TestNotifyHandOverPutOutsideTheLock: while the store takes its time
// over a hand-over key, the hand-over's other work (settling, answering
// NOTIFY messages it does not heed) does not wait for it.
func TestNotifyHandOverPutOutsideTheLock(t *testing.T) {
	p := startPrimary(t)
	c := newCluster(t, p)
	cs := c.hand.sess.(*countingSession)
	hold, entered := make(chan struct{}), make(chan struct{})
	cs.mu.Lock()
	cs.hold, cs.entered = hold, entered
	cs.mu.Unlock()
	released := false
	release := func() {
		if !released {
			released = true
			close(hold)
		}
	}
	defer release()
	done := make(chan error, 1)
	go func() {
		_, _, err := c.follower.Notify(c.ctx, "sec.test.", "", primaryAddr, ptr(9))
		done <- err
	}()
	<-entered
	free := make(chan struct{})
	go func() {
		defer close(free)
		c.hand.settledAt()
		c.follower.Notify(c.ctx, "nope.test.", "", primaryAddr, ptr(1))
	}()
	waitFor(t, "the hand-over's lock while a key is being put", func() bool {
		select {
		case <-free:
			return true
		default:
			return false
		}
	})
	release()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	<-free
}

// TestNotifyFollowerNewZone: a secondary zone created while the node
// hands its NOTIFY messages over is known to it before its first
// transfer, and its settings are read again when they change.
func TestNotifyFollowerNewZone(t *testing.T) {
	p := startPrimary(t)
	c := newCluster(t, p)
	other := netip.MustParseAddrPort("127.0.0.1:9")
	if _, err := c.svc.Secondaries.CreateSecondaryZone(c.ctx, model.ZoneSettings{Name: "new.test.", Primaries: []model.NotifyTarget{{Address: other}}}, "test"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the new zone to be known", func() bool {
		sz, ok, _ := c.hand.zone("new.test.")
		return ok && len(sz.Primaries) == 1
	})
	if known, allowed, _ := c.follower.Notify(c.ctx, "new.test.", "", other.Addr(), ptr(1)); !known || !allowed {
		t.Errorf("NOTIFY for the new zone from its primary: known %v allowed %v", known, allowed)
	}
	acl := []model.ACLRule{{Network: netip.MustParsePrefix("192.0.2.0/24")}}
	if _, err := c.svc.Zones.UpdateZone(c.ctx, "new.test.", control.ZoneUpdate{NotifyACL: &acl}, "test"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the new notify ACL", func() bool {
		sz, _, _ := c.hand.zone("new.test.")
		return len(sz.ACL.Notify) == 1
	})
	if known, allowed, _ := c.follower.Notify(c.ctx, "new.test.", "", netip.MustParseAddr("192.0.2.7"), ptr(1)); !known || !allowed {
		t.Errorf("NOTIFY the new ACL allows: known %v allowed %v", known, allowed)
	}
}
