package health

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/clock"
	"github.com/stratusdns/stratus/internal/model"
)

// countingServer counts requests by path and the requests running at once.
type countingServer struct {
	*httptest.Server
	delay   time.Duration
	mu      sync.Mutex
	byPath  map[string]int
	running atomic.Int64
	maxRun  atomic.Int64
}

func startCounting(t testing.TB, delay time.Duration) *countingServer {
	t.Helper()
	s := &countingServer{delay: delay, byPath: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := s.running.Add(1)
		defer s.running.Add(-1)
		for {
			m := s.maxRun.Load()
			if n <= m || s.maxRun.CompareAndSwap(m, n) {
				break
			}
		}
		s.mu.Lock()
		s.byPath[r.URL.Path]++
		s.mu.Unlock()
		time.Sleep(s.delay)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *countingServer) count(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byPath[path]
}

func (s *countingServer) target(t testing.TB, key, path string, interval time.Duration) Target {
	return targetAt(t, key, s.Listener.Addr().String(), spec(model.CheckHTTP, func(cs *model.CheckSpec) {
		cs.Path = path
		cs.Interval = model.Duration(interval)
	}))
}

func TestMaxInFlight(t *testing.T) {
	srv := startCounting(t, 50*time.Millisecond)
	c := newChecker(t, Options{MaxInFlight: 2})
	var ts []Target
	for i := range 10 {
		ts = append(ts, srv.target(t, fmt.Sprint("t", i), fmt.Sprint("/", i), 100*time.Millisecond))
	}
	c.SetTargets(ts)
	waitFor(t, "every target probed, two at once", func() bool {
		for i := range 10 {
			if srv.count(fmt.Sprint("/", i)) == 0 {
				return false
			}
		}
		return srv.maxRun.Load() >= 2
	})
	// Read before stopping: stopping aborts the probes in flight, whose
	// handlers run on while their slots go to other probes.
	m := srv.maxRun.Load()
	c.SetTargets(nil)
	if m != 2 {
		t.Errorf("at most %d requests at once, want 2 (MaxInFlight)", m)
	}
}

// TestSetTargetsRemovesAndAdds: a removed target is no longer probed, a
// kept one goes on, an added one starts. The scheduling clock moves only
// when the test steps it.
func TestSetTargetsRemovesAndAdds(t *testing.T) {
	const interval = 50 * time.Millisecond
	srv := startCounting(t, 0)
	base := runtime.NumGoroutine()
	c, clock := newSteppedChecker(t, Options{})
	start := clock.Now()
	a, b, x := srv.target(t, "a", "/a", interval), srv.target(t, "b", "/b", interval), srv.target(t, "x", "/x", interval)
	c.SetTargets([]Target{a, b})
	waitState(t, c, "a", Up)
	waitState(t, c, "b", Up)

	c.SetTargets([]Target{a, x})
	if _, ok := c.Status("b"); ok {
		t.Fatal("a removed target still has a status")
	}
	stopped := srv.count("/b")
	waitState(t, c, "x", Up)
	beforeA := srv.count("/a")
	for i := 1; i <= 3; i++ {
		clock.waitArmedN(t, start.Add(time.Duration(i)*interval), 2) // a and x both wait for their next probe
		clock.Step(interval)
	}
	clock.waitArmedN(t, start.Add(4*interval), 2)
	if n := srv.count("/b"); n != stopped {
		t.Errorf("removed target probed %d more times", n-stopped)
	}
	if n := srv.count("/a"); n != beforeA+3 {
		t.Errorf("the kept target probed %d times in 3 intervals, want 3", n-beforeA)
	}
	if got := len(c.Statuses()); got != 2 {
		t.Errorf("%d statuses, want 2", got)
	}

	c.SetTargets(nil)
	waitFor(t, "goroutines to end", func() bool { return runtime.NumGoroutine() <= base })
}

// TestSetTargetsRestart: a changed check restarts the target, keeping its
// state until the new check's first result, which decides at once.
func TestSetTargetsRestart(t *testing.T) {
	const interval = 50 * time.Millisecond
	srv := startCounting(t, 0)
	c, clock := newSteppedChecker(t, Options{})
	start := clock.Now()
	tg := srv.target(t, "k", "/old", interval)
	c.SetTargets([]Target{tg})
	before := waitState(t, c, "k", Up)

	tg.Check.Path = "/new"
	c.SetTargets([]Target{tg})
	waitFor(t, "the new path to be probed", func() bool { return srv.count("/new") > 0 })
	st, _ := c.Status("k")
	if st.State != Up || !st.Since.Equal(before.Since) || !st.Added.Equal(before.Added) {
		t.Errorf("after the restart %+v, want the state kept from %+v", st, before)
	}
	old := srv.count("/old")
	clock.waitArmed(t, start.Add(interval))
	clock.Step(interval)
	clock.waitArmed(t, start.Add(2*interval))
	if srv.count("/old") != old || srv.count("/new") != 2 {
		t.Errorf("after an interval: /old probed %d more times, /new %d times; want 0 and 2", srv.count("/old")-old, srv.count("/new"))
	}

	tg.Check.ExpectStatus = []string{"404"} // the new check's first result decides at once
	c.SetTargets([]Target{tg})
	waitState(t, c, "k", Down)
	evs := transitions(eventsOf(c, "k"))
	if len(evs) != 2 || evs[1] != "up>down check: first check failed: status 200, want 404" {
		t.Errorf("events %q", evs)
	}

	// To push: the state starts over.
	push := Target{Key: "k", Host: "127.0.0.1", Check: spec(model.CheckPush, nil)}
	c.SetTargets([]Target{push})
	if st, _ := c.Status("k"); st.State != Unknown {
		t.Errorf("after a change to push: %v, want unknown", st.State)
	}
	// Push to push: the pushed state stands.
	c.Push("k", true, "")
	push.Check.PushTTL = model.Duration(time.Hour)
	c.SetTargets([]Target{push})
	if st, _ := c.Status("k"); st.State != Up {
		t.Errorf("after a change of push TTL: %v, want up", st.State)
	}
}

func TestNoneTarget(t *testing.T) {
	c := newChecker(t, Options{})
	c.SetTargets([]Target{{Key: "n", Host: "192.0.2.1", Check: spec(model.CheckNone, nil)}})
	if st, _ := c.Status("n"); st.State != Up {
		t.Fatalf("none target %v, want up at once", st.State)
	}
	if evs := transitions(eventsOf(c, "n")); len(evs) != 1 || evs[0] != "unknown>up check: not checked (type none)" {
		t.Errorf("events %q", evs)
	}
}

func TestUnknownBeforeFirstProbe(t *testing.T) {
	srv := startCounting(t, 0)
	c := New(Options{Clock: clock.NewFake(epoch)}) // never stepped: no probe comes
	defer c.Close()
	c.SetTargets([]Target{srv.target(t, "k", "/", time.Hour)}) // the first probe is jittered within the hour
	st, ok := c.Status("k")
	if !ok || st.State != Unknown || st.Added.IsZero() || !st.Since.Equal(st.Added) {
		t.Fatalf("status %+v, want unknown since added", st)
	}
}

func TestBrokenCheck(t *testing.T) {
	c := newChecker(t, Options{})
	c.SetTargets([]Target{{Key: "k", Host: "127.0.0.1", Check: model.CheckSpec{Type: "carrier-pigeon"}}})
	st, ok := c.Status("k")
	if !ok || st.State != Unknown || !strings.Contains(st.LastError, `unknown check type "carrier-pigeon"`) {
		t.Fatalf("status %+v, want unknown with the error", st)
	}
}

// TestOnChange: OnChange runs after the status is updated, without locks
// held (it reads the statuses), and is coalesced: changes made while a call
// runs lead to one more call, which names every target they changed, each
// once; a push that changes nothing asks for none. The test holds each
// call until it has looked at the checker.
func TestOnChange(t *testing.T) {
	type call struct {
		state State // of target p
		keys  string
	}
	calls, resume, done := make(chan call), make(chan struct{}), make(chan struct{})
	var c *Checker
	c = newChecker(t, Options{OnChange: func(_ context.Context, keys []string) {
		select {
		case calls <- call{c.Statuses()["p"].State, strings.Join(keys, ",")}:
		case <-done:
			return
		}
		select {
		case <-resume:
		case <-done:
		}
	}})
	t.Cleanup(func() { close(done) })
	next := func(want call) {
		t.Helper()
		select {
		case got := <-calls:
			if got != want {
				t.Fatalf("OnChange saw %v for %q, want %v for %q", got.state, got.keys, want.state, want.keys)
			}
		case <-time.After(patience):
			t.Fatalf("no OnChange call within %v", patience)
		}
	}
	c.SetTargets([]Target{pushTarget("p", time.Minute), pushTarget("q", time.Minute), pushTarget("r", time.Minute)})
	c.Push("p", true, "")
	next(call{Up, "p"})
	// The call is held: the notifier took the request for it, and no other
	// is pending.
	if n := len(c.notify); n != 0 {
		t.Fatalf("%d calls pending during the first", n)
	}
	for i := range 100 {
		c.Push("p", i%2 == 0, "")
	}
	c.Push("p", false, "")
	c.Push("r", true, "")
	if n := len(c.notify); n != 1 {
		t.Fatalf("%d calls pending after 102 pushes during a call, want 1", n)
	}
	resume <- struct{}{}
	next(call{Down, "p,r"})
	if n := len(c.notify); n != 0 {
		t.Fatalf("%d calls pending after the coalesced call, want 0", n)
	}
	c.Push("p", false, "") // no change: no call
	if n := len(c.notify); n != 0 {
		t.Errorf("OnChange asked for without a change")
	}
	c.Push("q", true, "")
	if n := len(c.notify); n != 1 {
		t.Errorf("%d calls pending after a change, want 1", n)
	}
	resume <- struct{}{}
	next(call{Down, "q"})
	resume <- struct{}{}
}

func TestCloseIdempotent(t *testing.T) {
	srv := startCounting(t, 0)
	c := New(Options{OnChange: func(context.Context, []string) {}})
	c.jitter = func(time.Duration) time.Duration { return 0 }
	c.SetTargets([]Target{srv.target(t, "k", "/", 50*time.Millisecond), pushTarget("p", time.Minute)})
	waitState(t, c, "k", Up)
	c.Close()
	c.Close()
	n := srv.count("/")
	var made atomic.Int64
	c.proberFor = func(e *probeEnv) (prober, error) { made.Add(1); return newProber(e) }
	c.SetTargets([]Target{srv.target(t, "k2", "/2", 50*time.Millisecond)})
	if made.Load() != 0 || srv.count("/") != n || srv.count("/2") != 0 {
		t.Error("a target set up after Close")
	}
	if len(c.Statuses()) != 0 {
		t.Error("statuses after Close")
	}
	if len(c.Events(0, 0)) == 0 {
		t.Error("events lost at Close")
	}
}
