package health

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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
	waitFor(t, 30*time.Second, "every target probed", func() bool {
		for i := range 10 {
			if srv.count(fmt.Sprint("/", i)) == 0 {
				return false
			}
		}
		return true
	})
	// Read before stopping: stopping aborts the probes in flight, whose
	// handlers run on while their slots go to other probes.
	m := srv.maxRun.Load()
	c.SetTargets(nil)
	if m != 2 {
		t.Errorf("at most %d requests at once, want 2 (MaxInFlight)", m)
	}
	for i := range 10 {
		if srv.count(fmt.Sprint("/", i)) == 0 {
			t.Errorf("target %d never probed", i)
		}
	}
}

func TestSetTargetsRemovesAndAdds(t *testing.T) {
	srv := startCounting(t, 0)
	base := runtime.NumGoroutine()
	c := newChecker(t, Options{})
	a, b, x := srv.target(t, "a", "/a", 50*time.Millisecond), srv.target(t, "b", "/b", 50*time.Millisecond), srv.target(t, "x", "/x", 50*time.Millisecond)
	c.SetTargets([]Target{a, b})
	waitState(t, c, "a", Up, time.Second)
	waitState(t, c, "b", Up, time.Second)

	c.SetTargets([]Target{a, x})
	if _, ok := c.Status("b"); ok {
		t.Fatal("a removed target still has a status")
	}
	stopped := srv.count("/b")
	waitState(t, c, "x", Up, time.Second)
	beforeA := srv.count("/a")
	// Three more probes of the kept target: time enough for the removed
	// one to have been probed again if it still were.
	waitFor(t, 30*time.Second, "the kept target probed again", func() bool { return srv.count("/a") >= beforeA+3 })
	if n := srv.count("/b"); n != stopped {
		t.Errorf("removed target probed %d more times", n-stopped)
	}
	if srv.count("/a") <= beforeA {
		t.Errorf("the kept target stopped being probed")
	}
	if got := len(c.Statuses()); got != 2 {
		t.Errorf("%d statuses, want 2", got)
	}

	c.SetTargets(nil)
	waitFor(t, 3*time.Second, "goroutines to end", func() bool { return runtime.NumGoroutine() <= base })
}

// TestSetTargetsRestart: a changed check restarts the target, keeping its
// state until the new check's first result, which decides at once.
func TestSetTargetsRestart(t *testing.T) {
	srv := startCounting(t, 0)
	c := newChecker(t, Options{})
	tg := srv.target(t, "k", "/old", 50*time.Millisecond)
	c.SetTargets([]Target{tg})
	before := waitState(t, c, "k", Up, time.Second)

	tg.Check.Path = "/new"
	c.SetTargets([]Target{tg})
	waitFor(t, time.Second, "the new path to be probed", func() bool { return srv.count("/new") > 0 })
	st, _ := c.Status("k")
	if st.State != Up || !st.Since.Equal(before.Since) || !st.Added.Equal(before.Added) {
		t.Errorf("after the restart %+v, want the state kept from %+v", st, before)
	}
	old := srv.count("/old")
	time.Sleep(150 * time.Millisecond)
	if srv.count("/old") != old {
		t.Error("the old check still runs")
	}

	tg.Check.ExpectStatus = []string{"404"} // the new check's first result decides at once
	c.SetTargets([]Target{tg})
	waitState(t, c, "k", Down, time.Second)
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
	c := New(Options{})
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
// held (it reads the statuses), and is coalesced.
func TestOnChange(t *testing.T) {
	var (
		mu   sync.Mutex
		seen []State
	)
	var c *Checker
	c = newChecker(t, Options{OnChange: func() {
		st := c.Statuses()["p"]
		mu.Lock()
		seen = append(seen, st.State)
		mu.Unlock()
	}})
	c.SetTargets([]Target{pushTarget("p", time.Minute)})
	c.Push("p", true, "")
	waitFor(t, time.Second, "OnChange to see up", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen) > 0 && seen[len(seen)-1] == Up
	})
	for i := range 100 {
		c.Push("p", i%2 == 0, "")
	}
	c.Push("p", false, "")
	waitFor(t, time.Second, "OnChange to see down", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return seen[len(seen)-1] == Down
	})
	calls := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(seen)
	}
	n := calls()
	for { // a call already asked for may still come
		time.Sleep(50 * time.Millisecond)
		m := calls()
		if m == n {
			break
		}
		n = m
	}
	t.Logf("%d OnChange calls for 102 changes", n)
	c.Push("p", false, "") // no change: no call
	time.Sleep(50 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != n {
		t.Errorf("OnChange called without a change")
	}
}

func TestCloseIdempotent(t *testing.T) {
	srv := startCounting(t, 0)
	c := New(Options{OnChange: func() {}})
	c.jitter = func(time.Duration) time.Duration { return 0 }
	c.SetTargets([]Target{srv.target(t, "k", "/", 50*time.Millisecond), pushTarget("p", time.Minute)})
	waitState(t, c, "k", Up, time.Second)
	c.Close()
	c.Close()
	n := srv.count("/")
	c.SetTargets([]Target{srv.target(t, "k2", "/2", 50*time.Millisecond)})
	time.Sleep(150 * time.Millisecond)
	if srv.count("/") != n || srv.count("/2") != 0 {
		t.Error("probes after Close")
	}
	if len(c.Statuses()) != 0 {
		t.Error("statuses after Close")
	}
	if len(c.Events(0, 0)) == 0 {
		t.Error("events lost at Close")
	}
}
