package healthview

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/clock"
	"github.com/stratusdns/stratus/internal/health"
	"github.com/stratusdns/stratus/internal/store"
	"github.com/stratusdns/stratus/internal/store/local"
)

func up() health.Status {
	return health.Status{State: health.Up, Since: t0, Added: t0, LastCheck: t0, LastOK: true, RTT: time.Millisecond}
}

func down() health.Status {
	return health.Status{State: health.Down, Since: t0, Added: t0, LastCheck: t0, LastError: "connection refused"}
}

// TestViewAlone: a node without a session sees its checker's statuses
// unchanged, hears of every change its checker reports, and logs
// nothing of its own: what a node alone did before views existed.
func TestViewAlone(t *testing.T) {
	clk := clock.NewFake(t0)
	chk := newChecker(clk)
	var told [][]string
	v := New(chk, Options{Node: "a", Clock: clk, OnChange: func(_ context.Context, keys []string) { told = append(told, keys) }})
	for _, st := range []health.Status{up(), down(), {State: health.Down, Since: t0, HeldUntil: t0.Add(time.Minute)}, {State: health.Unknown, Since: t0}} {
		chk.set("s.|e1", st)
		v.LocalChanged(context.Background(), []string{"s.|e1"})
		got, ok := v.Status("s.|e1")
		if !ok || !reflect.DeepEqual(got, st) {
			t.Errorf("Status = %+v, want the checker's %+v", got, st)
		}
	}
	if len(told) != 4 || !slices.Equal(told[3], []string{"s.|e1"}) {
		t.Errorf("OnChange calls %v, want one per change", told)
	}
	if _, ok := v.Status("s.|other"); ok {
		t.Error("a target the checker does not check has a status")
	}
	if r := chk.reasons(); len(r) != 0 {
		t.Errorf("events %q, want none", r)
	}
}

// node is one node of a test cluster.
type node struct {
	name string
	chk  *checker
	v    *View
	sess store.Session

	mu      sync.Mutex
	changed map[string]int // OnChange calls by key
}

func (n *node) state(key string) (health.State, string) {
	st, _ := n.v.Status(key)
	return st.State, st.View
}

// cluster is nodes sharing one in-process store.Shared (store/local),
// their views running on its sessions.
type cluster struct {
	t      *testing.T
	clk    *clock.Fake
	hub    *local.Cluster
	nodes  map[string]*node
	cancel context.CancelFunc
	ctx    context.Context
	wg     sync.WaitGroup
	wrap   func(string, store.Session) store.Session
}

func newCluster(t *testing.T, names ...string) *cluster {
	return newClusterWith(t, nil, names...)
}

// newClusterWith is newCluster whose nodes' sessions are wrap(session)
// when wrap is set.
func newClusterWith(t *testing.T, wrap func(string, store.Session) store.Session, names ...string) *cluster {
	ctx, cancel := context.WithCancel(context.Background())
	c := &cluster{t: t, clk: clock.NewFake(t0), hub: local.New(), nodes: map[string]*node{}, ctx: ctx, cancel: cancel, wrap: wrap}
	t.Cleanup(func() {
		c.cancel()
		c.wg.Wait()
	})
	for _, name := range names {
		n := &node{name: name, chk: newChecker(c.clk), changed: map[string]int{}}
		n.v = New(n.chk, Options{Node: name, Clock: c.clk, SessionTTL: time.Minute, OnChange: func(_ context.Context, keys []string) {
			n.mu.Lock()
			for _, k := range keys {
				n.changed[k]++
			}
			n.mu.Unlock()
		}})
		c.nodes[name] = n
		c.start(n)
	}
	return c
}

// start runs n's view on a new session.
func (c *cluster) start(n *node) {
	sess, err := c.hub.Session(c.ctx, n.name, time.Minute)
	if err != nil {
		c.t.Fatal(err)
	}
	if c.wrap != nil {
		sess = c.wrap(n.name, sess)
	}
	n.sess = sess
	c.wg.Add(1)
	go func() { defer c.wg.Done(); n.v.Run(c.ctx, n.sess) }()
}

// set gives the named nodes' checkers a status for key, as a check would.
func (c *cluster) set(key string, st health.Status, names ...string) {
	for _, name := range names {
		n := c.nodes[name]
		n.chk.set(key, st)
		n.v.LocalChanged(context.Background(), []string{key})
	}
}

// wait steps the clock (the debounce) until cond holds, or fails.
func (c *cluster) wait(what string, cond func() (bool, string)) {
	c.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ok, last := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s: never; last: %s", what, last)
		}
		c.clk.Step(DefaultDebounce)
		time.Sleep(time.Millisecond)
	}
}

// waitState waits until every named node sees key in state.
func (c *cluster) waitState(key string, want health.State, names ...string) {
	c.t.Helper()
	for _, name := range names {
		c.wait(name+" sees "+key+" "+want.String(), func() (bool, string) {
			s, view := c.nodes[name].state(key)
			return s == want, s.String() + " (" + view + ")"
		})
	}
}

// waitAll waits until every node's view of every key is view.
func (c *cluster) waitAll(keys []string, view string) {
	c.t.Helper()
	for name, n := range c.nodes {
		for _, k := range keys {
			c.wait(name+" sees "+k+" as "+view, func() (bool, string) {
				_, got := n.state(k)
				return got == view, got
			})
		}
	}
}

func (c *cluster) waitEvent(name, text string) {
	c.t.Helper()
	c.wait(name+" logs "+text, func() (bool, string) {
		r := c.nodes[name].chk.reasons()
		for _, s := range r {
			if strings.Contains(s, text) {
				return true, ""
			}
		}
		return false, strings.Join(r, "; ")
	})
}

// TestViewMajority: with three nodes a target is down where two see it
// down, whatever the third sees; the nodes are told; a node that dies
// takes its votes with it.
func TestViewMajority(t *testing.T) {
	c := newCluster(t, "a", "b", "c")
	for _, k := range []string{"s.|e1", "s.|e2"} {
		c.set(k, up(), "a", "b", "c")
	}
	c.waitAll([]string{"s.|e1", "s.|e2"}, "3 of 3 nodes see it up (a, b, c)")

	c.set("s.|e1", down(), "c")
	c.wait("c's vote reaches a", func() (bool, string) {
		_, view := c.nodes["a"].state("s.|e1")
		return view == "2 of 3 nodes see it up (a, b)", view
	})
	if s, _ := c.nodes["c"].state("s.|e1"); s != health.Up {
		t.Fatalf("c alone seeing e1 down made it %v at c", s)
	}

	c.set("s.|e1", down(), "b")
	c.waitState("s.|e1", health.Down, "a", "b", "c")
	st, _ := c.nodes["a"].v.Status("s.|e1")
	if st.View != "2 of 3 nodes see it down (b, c)" || !st.LastOK || st.RTT != time.Millisecond {
		t.Errorf("a's status: %+v; want the majority's state with a's own probe details", st)
	}
	c.waitEvent("a", "s.|e1: 2 of 3 nodes see it down (b, c)")
	a := c.nodes["a"]
	a.mu.Lock()
	if a.changed["s.|e1"] == 0 || a.changed["s.|e2"] != 1 {
		t.Errorf("a was told of changes %v; want e1, and e2 only when first checked", a.changed)
	}
	a.mu.Unlock()

	// c dies: its votes go; a (up) and b (down) tie, which is up.
	c.nodes["c"].sess.Close()
	c.waitState("s.|e1", health.Up, "a", "b")
	if _, view := a.state("s.|e1"); view != "1 of 2 nodes see it up (a)" {
		t.Errorf("after c died: %q", view)
	}
}

// TestViewOneNodeAloneNeverTakesItOut: on a target the other live nodes
// have no verdict on yet (a new endpoint), one node seeing it down takes
// it out nowhere; once a second node agrees, it is down everywhere.
func TestViewOneNodeAloneNeverTakesItOut(t *testing.T) {
	c := newCluster(t, "a", "b", "c")
	c.set("s.|e0", up(), "a", "b", "c")
	c.waitAll([]string{"s.|e0"}, "3 of 3 nodes see it up (a, b, c)")
	for _, name := range []string{"a", "b", "c"} {
		c.nodes[name].chk.set("s.|e1", health.Status{State: health.Unknown, Since: t0, Added: t0})
		c.nodes[name].v.LocalChanged(context.Background(), []string{"s.|e1"})
	}
	c.set("s.|e1", down(), "c")
	c.waitAll([]string{"s.|e1"}, "only 1 of 3 nodes see it down (c)")
	for _, name := range []string{"a", "b", "c"} {
		if s, _ := c.nodes[name].state("s.|e1"); s != health.Up {
			t.Errorf("%s sees e1 %v; one node alone took it out", name, s)
		}
	}
	c.set("s.|e1", down(), "b")
	c.waitState("s.|e1", health.Down, "a", "b", "c")
	c.waitAll([]string{"s.|e1"}, "2 of 3 nodes see it down (b, c)")
}

// TestViewIsolatedNode: a node that sees every target down while the
// others see them up is ignored by every node, itself included, and says
// so; and again when it sees what the others see.
func TestViewIsolatedNode(t *testing.T) {
	c := newCluster(t, "a", "b", "c")
	keys := []string{"s.|e1", "s.|e2", "s.|e3"}
	for _, k := range keys {
		c.set(k, up(), "a", "b", "c")
	}
	c.waitAll(keys, "3 of 3 nodes see it up (a, b, c)")
	for _, k := range keys {
		c.set(k, down(), "c")
	}
	c.waitEvent("c", "node:c: this node sees every endpoint down (3 of 3) while the other nodes see them up; its votes are ignored")
	c.waitEvent("a", "node:c: node c sees every endpoint down")
	for _, name := range []string{"a", "b", "c"} {
		c.wait(name+" ignores c", func() (bool, string) { return c.nodes[name].v.Isolated("c"), "" })
		for _, k := range keys {
			if s, view := c.nodes[name].state(k); s != health.Up || view != "2 of 2 nodes see it up (a, b)" {
				t.Errorf("%s sees %s %v (%s); want up from a and b", name, k, s, view)
			}
		}
	}
	// a and b now see e1 down: the isolated node's vote still does not
	// count, and the majority of the others decides.
	c.set("s.|e1", down(), "a", "b")
	c.waitState("s.|e1", health.Down, "a", "b", "c")

	for _, k := range keys {
		c.set(k, up(), "c")
	}
	c.waitEvent("c", "this node sees the endpoints as the other nodes do again")
	c.wait("c counts again", func() (bool, string) { return !c.nodes["a"].v.Isolated("c"), "" })
	for _, name := range []string{"a", "b", "c"} {
		if name != "c" && c.nodes[name].v.Isolated("c") {
			t.Errorf("%s still ignores c", name)
		}
	}
}

// TestViewPushReachesEveryNode: a report pushed to one node is the state
// at every node; a later one through another node replaces it; when the
// node holding the latest report dies, the others fall back to the
// latest they hold.
func TestViewPushReachesEveryNode(t *testing.T) {
	c := newCluster(t, "a", "b", "c")
	push := health.Status{State: health.Unknown, Since: t0, Added: t0, Push: true}
	c.set("s.|p1", push, "a", "b", "c")
	c.waitState("s.|p1", health.Unknown, "a", "b", "c")

	if err := c.nodes["a"].v.Push("s.|p1", false, "maintenance"); err != nil {
		t.Fatal(err)
	}
	if s, _ := c.nodes["a"].state("s.|p1"); s != health.Down {
		t.Fatalf("a's own view after the push: %v, want down at once", s)
	}
	c.waitState("s.|p1", health.Down, "b", "c")
	if _, view := c.nodes["c"].state("s.|p1"); view != "latest push report taken by node a" {
		t.Errorf("c's view: %q", view)
	}

	c.clk.Step(time.Second)
	if err := c.nodes["b"].v.Push("s.|p1", true, ""); err != nil {
		t.Fatal(err)
	}
	c.waitState("s.|p1", health.Up, "a", "b", "c")

	// b dies: a holds its own (older, down) report, c none but a's.
	c.nodes["b"].sess.Close()
	c.waitState("s.|p1", health.Down, "a", "c")
}

// TestViewCutOffKeepsView: a node whose session ended keeps the others'
// last votes: its view stays, and its own new verdicts count as one vote
// among them. A new session takes the others' votes afresh.
func TestViewCutOffKeepsView(t *testing.T) {
	c := newCluster(t, "a", "b", "c")
	c.set("s.|e1", up(), "a")
	c.set("s.|e1", down(), "b", "c")
	c.set("s.|e2", up(), "a", "b", "c")
	c.waitState("s.|e1", health.Down, "a")
	c.waitState("s.|e2", health.Up, "a")
	a := c.nodes["a"]
	c.wait("a has every vote on e2", func() (bool, string) {
		_, view := a.state("s.|e2")
		return view == "3 of 3 nodes see it up (a, b, c)", view
	})

	a.sess.Close()
	c.set("s.|e2", down(), "a")
	if s, view := a.state("s.|e1"); s != health.Down {
		t.Errorf("cut off, a sees e1 %v (%s); want down as before", s, view)
	}
	if s, view := a.state("s.|e2"); s != health.Up || view != "2 of 3 nodes see it up (b, c)" {
		t.Errorf("cut off, a's own down on e2 made %v (%s); want up, b and c outvoting it", s, view)
	}

	// Meanwhile c died; back in contact, a takes the votes afresh.
	c.nodes["c"].sess.Close()
	c.start(a)
	c.wait("a sees c gone", func() (bool, string) {
		_, view := a.state("s.|e2")
		return view == "1 of 2 nodes see it up (b)", view
	})
}

// countingSession counts a session's writes of ephemeral keys (requests
// to the store) and fails the first fail of its Applies.
type countingSession struct {
	store.Session
	mu     sync.Mutex
	writes int
	events int
	fail   int
}

func (s *countingSession) Put(ctx context.Context, key string, value []byte) error {
	s.count(1)
	return s.Session.Put(ctx, key, value)
}

func (s *countingSession) Delete(ctx context.Context, key string) error {
	s.count(1)
	return s.Session.Delete(ctx, key)
}

func (s *countingSession) Apply(ctx context.Context, evs []store.Event) error {
	s.mu.Lock()
	s.writes++
	s.events += len(evs)
	fail := s.fail > 0
	if fail {
		s.fail--
		s.mu.Unlock()
		// Write half and fail, as a batch cut short by the store.
		_ = s.Session.Apply(ctx, evs[:len(evs)/2])
		return errors.New("store unavailable")
	}
	s.mu.Unlock()
	return s.Session.Apply(ctx, evs)
}

func (s *countingSession) count(events int) {
	s.mu.Lock()
	s.writes++
	s.events += events
	s.mu.Unlock()
}

func (s *countingSession) counts() (writes, events int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writes, s.events
}

// TestViewPublishesInBatches: votes that change together are published
// in one write of the store, not one write a vote; a write that fails
// is retried whole, and votes taken back are deleted in one write too.
func TestViewPublishesInBatches(t *testing.T) {
	const n = 1000
	var a *countingSession
	c := newClusterWith(t, func(name string, s store.Session) store.Session {
		if name != "a" {
			return s
		}
		a = &countingSession{Session: s, fail: 1}
		return a
	}, "a", "b")
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("s.|e%04d", i)
		c.nodes["a"].chk.set(keys[i], down())
	}
	c.nodes["a"].v.LocalChanged(context.Background(), keys)
	// b sees a's n votes: the failed first write was retried.
	votes := func() (bool, string) {
		evs, err := c.nodes["b"].sess.List(context.Background(), VotesPrefix+"a/")
		if err != nil {
			return false, err.Error()
		}
		return len(evs) == n, fmt.Sprintf("%d votes of a", len(evs))
	}
	c.wait("b lists a's votes", votes)
	if w, e := a.counts(); w != 2 || e != 2*n {
		t.Fatalf("a published %d votes (a failed write retried) in %d writes of %d events; want 2 writes of %d", n, w, e, 2*n)
	}

	// a stops checking half the targets: the sweep takes their votes
	// back in one write.
	for _, k := range keys[:n/2] {
		c.nodes["a"].chk.remove(k)
	}
	c.clk.Step(sweepEvery)
	c.wait("b lists half of a's votes", func() (bool, string) {
		evs, err := c.nodes["b"].sess.List(context.Background(), VotesPrefix+"a/")
		if err != nil {
			return false, err.Error()
		}
		return len(evs) == n/2, fmt.Sprintf("%d votes of a", len(evs))
	})
	if w, e := a.counts(); w != 3 || e != 2*n+n/2 {
		t.Fatalf("after taking back %d votes: %d writes of %d events; want 3 writes of %d", n/2, w, e, 2*n+n/2)
	}
}

// TestViewCutOffVotesAgeOut: cut off from the store, a node keeps the
// others' votes for the session ttl only; then it decides by its own
// verdicts, as a node alone, and says so; a new session brings the
// others' votes back, and it says so too.
func TestViewCutOffVotesAgeOut(t *testing.T) {
	c := newCluster(t, "a", "b", "c")
	c.set("s.|e1", up(), "a", "b", "c")
	c.waitAll([]string{"s.|e1"}, "3 of 3 nodes see it up (a, b, c)")
	a := c.nodes["a"]

	a.sess.Close()
	c.wait("a's view notices its session ended", func() (bool, string) {
		a.v.mu.Lock()
		defer a.v.mu.Unlock()
		return a.v.ageOut != nil, ""
	})
	c.set("s.|e1", down(), "a") // the endpoint dies while a is cut off
	c.clk.Step(time.Minute - time.Second)
	if s, view := a.state("s.|e1"); s != health.Up || view != "2 of 3 nodes see it up (b, c)" {
		t.Errorf("cut off for less than the ttl, a sees e1 %v (%s); want the others' votes still counting", s, view)
	}
	c.clk.Step(time.Second)
	c.waitState("s.|e1", health.Down, "a")
	if st, _ := a.v.Status("s.|e1"); st.View != "" || st.LastError != "connection refused" {
		t.Errorf("after the ttl a's status is %+v; want its own verdict alone", st)
	}
	c.waitEvent("a", "node:a: this node has been cut off from the store for the session ttl (1m0s)")

	c.start(a)
	c.waitEvent("a", "node:a: this node is in contact with the store again")
	c.wait("a counts the others again", func() (bool, string) {
		s, view := a.state("s.|e1")
		return s == health.Up && view == "2 of 3 nodes see it up (b, c)", s.String() + " " + view
	})
}

// TestViewVotesFromOwnSessionsOnly: a vote counts only when the live
// session of the node it names holds it: one node's session putting
// votes under other nodes' names (alive or not) changes nothing.
func TestViewVotesFromOwnSessionsOnly(t *testing.T) {
	c := newCluster(t, "a", "b", "c")
	c.set("s.|e1", up(), "a", "c")
	c.set("s.|e1", down(), "b")
	c.set("s.|e2", up(), "a")
	c.waitAll([]string{"s.|e1"}, "2 of 3 nodes see it up (a, c)")

	b := c.nodes["b"]
	vote := encodeVote(Vote{State: health.Down, Since: t0})
	for _, name := range []string{"d", "e"} {
		if err := b.sess.Put(c.ctx, VotesPrefix+name+"/s.|e1", vote); err != nil {
			t.Fatal(err)
		}
	}
	// A marker after the forged votes: once a sees it, it has seen them.
	c.set("s.|e2", up(), "b")
	c.wait("a sees b's vote on e2", func() (bool, string) {
		_, view := c.nodes["a"].state("s.|e2")
		return view == "2 of 3 nodes see it up (a, b)", view
	})
	for _, name := range []string{"a", "b", "c"} {
		if s, view := c.nodes[name].state("s.|e1"); s != health.Up || view != "2 of 3 nodes see it up (a, c)" {
			t.Errorf("%s sees e1 %v (%s); votes put by b under d's and e's names counted", name, s, view)
		}
	}
}
