package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/clock"
	"github.com/stratusdns/stratus/internal/store"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// waitFor polls cond until it holds, failing after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// runNode runs n until the test ends.
func runNode(t *testing.T, n *Node) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); n.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// leaderTask records the terms it runs in.
type leaderTask struct {
	mu      sync.Mutex
	running map[*fakeTerm]bool
	started []*fakeTerm
	hold    chan struct{} // when set, the task waits for it after ctx is done
}

func (l *leaderTask) run(ctx context.Context) {
	t := termOf(ctx)
	l.mu.Lock()
	if l.running == nil {
		l.running = map[*fakeTerm]bool{}
	}
	l.running[t] = true
	l.started = append(l.started, t)
	hold := l.hold
	l.mu.Unlock()
	<-ctx.Done()
	if hold != nil {
		<-hold
	}
	l.mu.Lock()
	delete(l.running, t)
	l.mu.Unlock()
}

func (l *leaderTask) state() (running, started int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.running), len(l.started)
}

func newNode(f *fakeShared, clk clock.Clock, name string) *Node {
	return New(Options{Name: name, SessionTTL: 10 * time.Second, Open: f.open, Clock: clk})
}

func TestAloneLeadsAtOnceWithFencedContext(t *testing.T) {
	f := newFakeShared()
	n := newNode(f, clock.NewFake(t0), "a")
	var task leaderTask
	n.WhileLeading("task", task.run)
	runNode(t, n)
	waitFor(t, "the task to run", func() bool { r, _ := task.state(); return r == 1 })
	if !n.Leading() || n.Terms() != 1 {
		t.Fatalf("Leading %v Terms %d, want true 1", n.Leading(), n.Terms())
	}
	task.mu.Lock()
	term := task.started[0]
	task.mu.Unlock()
	if term == nil || term.sess.node != "a" {
		t.Fatalf("the task's context carries term %+v, want a's term", term)
	}
}

func TestLeadershipMovesWhenSessionEnds(t *testing.T) {
	f := newFakeShared()
	clk := clock.NewFake(t0)
	a, b := newNode(f, clk, "a"), newNode(f, clk, "b")
	var ta, tb leaderTask
	a.WhileLeading("task", ta.run)
	b.WhileLeading("task", tb.run)
	runNode(t, a)
	waitFor(t, "a to lead", func() bool { r, _ := ta.state(); return r == 1 })
	runNode(t, b)
	waitFor(t, "b to campaign", func() bool { _, c := f.count(); return c == 2 })
	if b.Leading() {
		t.Fatal("b leads while a does")
	}
	f.expire("a")
	waitFor(t, "b to lead", func() bool { r, _ := tb.state(); return r == 1 })
	waitFor(t, "a's task to stop", func() bool { r, _ := ta.state(); return r == 0 })
	if a.Leading() {
		t.Fatal("a still says it leads")
	}
	// a opens a new session after its backoff and follows.
	waitFor(t, "a to wait before a new session", func() bool { return clk.Armed() > 0 && a.Session() == nil })
	clk.Step(DefaultMinBackoff)
	waitFor(t, "a's new session to campaign", func() bool { o, c := f.count(); return o == 3 && c == 3 })
	if a.Leading() || !b.Leading() || f.leaderNode(Election) != "b" {
		t.Fatalf("a leads %v, b leads %v, leader %q; want b alone", a.Leading(), b.Leading(), f.leaderNode(Election))
	}
}

func TestTasksStopBeforeCampaigningAgain(t *testing.T) {
	f := newFakeShared()
	n := newNode(f, clock.NewFake(t0), "a")
	task := leaderTask{hold: make(chan struct{})}
	n.WhileLeading("slow", task.run)
	var other leaderTask
	n.WhileLeading("quick", other.run)
	runNode(t, n)
	waitFor(t, "the tasks to run", func() bool { r, _ := task.state(); r2, _ := other.state(); return r == 1 && r2 == 1 })
	f.depose(Election)
	waitFor(t, "the quick task to stop", func() bool { r, _ := other.state(); return r == 0 })
	waitFor(t, "leadership to be given up", func() bool { return !n.Leading() })
	// The slow task has not stopped: no new campaign yet.
	time.Sleep(20 * time.Millisecond)
	if _, c := f.count(); c != 1 {
		t.Fatalf("%d campaigns while a task of the last term runs, want 1", c)
	}
	close(task.hold)
	waitFor(t, "a second term", func() bool { _, s := task.state(); return s == 2 })
	if n.Terms() != 2 {
		t.Fatalf("Terms %d, want 2", n.Terms())
	}
}

func TestOpenRetriesWithBackoff(t *testing.T) {
	f := newFakeShared()
	f.openErrs = 3
	clk := clock.NewFake(t0)
	n := newNode(f, clk, "a")
	runNode(t, n)
	for _, d := range []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond} {
		waitFor(t, "a backoff of "+d.String(), func() bool { return clk.ArmedAt(clk.Now().Add(d)) == 1 })
		clk.Step(d)
	}
	waitFor(t, "the session", func() bool { return n.Session() != nil && n.Leading() })
}

func TestSessionTaskRunsPerSessionAndAfterErrors(t *testing.T) {
	f := newFakeShared()
	clk := clock.NewFake(t0)
	n := newNode(f, clk, "a")
	var calls atomic.Int32
	var mu sync.Mutex
	var sessions []store.Session
	n.OnSession("votes", func(ctx context.Context, sess store.Session) error {
		mu.Lock()
		sessions = append(sessions, sess)
		mu.Unlock()
		if calls.Add(1) == 1 {
			return errors.New("first try fails")
		}
		<-ctx.Done()
		return nil
	})
	runNode(t, n)
	waitFor(t, "the retry's backoff", func() bool { return calls.Load() == 1 && clk.Armed() == 1 })
	clk.Step(DefaultMinBackoff)
	waitFor(t, "the second call", func() bool { return calls.Load() == 2 })
	first := n.Session()
	f.expire("a")
	waitFor(t, "the wait for a new session", func() bool { return n.Session() == nil && clk.Armed() == 1 })
	clk.Step(DefaultMinBackoff)
	waitFor(t, "the third call", func() bool { return calls.Load() == 3 })
	mu.Lock()
	defer mu.Unlock()
	if sessions[0] != first || sessions[1] != first || sessions[2] == first {
		t.Fatal("the task was not given the session it runs in")
	}
}

func TestAnnounceWritesChangesAtMostOnceASecond(t *testing.T) {
	f := newFakeShared()
	clk := clock.NewFake(t0)
	n := newNode(f, clk, "a")
	var rev atomic.Int64
	rev.Store(7)
	n.OnSession("member", n.Announce(func() Member {
		return Member{API: "127.0.0.1:8053", Revision: rev.Load(), Health: HealthCounts{Up: 2}}
	}))
	runNode(t, n)
	read := func() Member {
		sess := n.Session()
		if sess == nil {
			return Member{}
		}
		ms, err := Members(context.Background(), sess)
		if err != nil || len(ms) != 1 {
			return Member{}
		}
		return ms[0]
	}
	// step moves the clock by MemberInterval once the task waits for it.
	step := func() {
		t.Helper()
		waitFor(t, "the record's timer", func() bool { return clk.ArmedAt(clk.Now().Add(MemberInterval)) == 1 })
		clk.Step(MemberInterval)
	}
	waitFor(t, "the record", func() bool { return read().Revision == 7 })
	if !read().Leader { // written before the node led: at the next tick
		step()
		waitFor(t, "the record to say the node leads", func() bool { return read().Leader })
	}
	m := read()
	base := m.Seen
	if m.Node != "a" || m.API != "127.0.0.1:8053" || m.Health.Up != 2 || !base.Equal(clk.Now()) {
		t.Fatalf("record %+v at %v", m, clk.Now())
	}
	rev.Store(8)
	time.Sleep(20 * time.Millisecond)
	if read().Revision != 7 {
		t.Fatal("record rewritten within a second")
	}
	step()
	waitFor(t, "revision 8", func() bool { return read().Revision == 8 })
	if got := read().Seen; !got.Equal(base.Add(MemberInterval)) {
		t.Fatalf("seen %v, want %v", got, base.Add(MemberInterval))
	}
	// Nothing changed: nothing written.
	step()
	time.Sleep(20 * time.Millisecond)
	if got := read().Seen; !got.Equal(base.Add(MemberInterval)) {
		t.Fatalf("record rewritten without a change: seen %v", got)
	}
}

func TestMembersRefusesBadRecords(t *testing.T) {
	for _, tc := range []struct{ name, key, val, want string }{
		{"not JSON", "members/a", "{", "member record members/a:"},
		{"other node", "members/a", `{"node":"b"}`, `member record members/a: names node "b"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeShared()
			s, _ := f.open(context.Background(), "x", time.Second)
			defer s.Close()
			s.Put(context.Background(), tc.key, []byte(tc.val))
			_, err := Members(context.Background(), s)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
	f := newFakeShared()
	s, _ := f.open(context.Background(), "x", time.Second)
	defer s.Close()
	for _, n := range []string{"c", "a", "b"} {
		b, _ := json.Marshal(Member{Node: n})
		s.Put(context.Background(), MembersPrefix+n, b)
	}
	ms, err := Members(context.Background(), s)
	if err != nil || len(ms) != 3 || ms[0].Node != "a" || ms[2].Node != "c" {
		t.Fatalf("Members %+v %v", ms, err)
	}
}
