package steerctl

import (
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/health"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/publish"
	"github.com/stratusdns/stratus/internal/steer"
	"github.com/stratusdns/stratus/internal/zone"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func service() *model.Service {
	s := &model.Service{Name: "api.example.com.", Pools: []model.Pool{{Name: "p", Check: model.CheckSpec{Type: model.CheckPush}}}}
	s.Normalize()
	return s
}

func endpoint(id, addr string, lease time.Duration, now time.Time) *model.Endpoint {
	e := &model.Endpoint{Service: "api.example.com.", ID: id, Pool: "p", Address: addr, Created: now, Renewed: now}
	if lease > 0 {
		e.LeaseTTL, e.Expires = model.Duration(lease), now.Add(lease)
	}
	e.Normalize()
	return e
}

func answer(t *testing.T, c *Controller) []string {
	t.Helper()
	var cl zone.Client
	cl.Begin()
	set, rcode := c.Snapshots().Load().Steer(string(model.Name("api.example.com.").Wire()), 1, &cl)
	if rcode != 0 {
		t.Fatalf("rcode %d", rcode)
	}
	var out []string
	if set != nil {
		for _, rd := range set.Rdata {
			a, _ := netip.AddrFromSlice(rd)
			out = append(out, a.String())
		}
	}
	return out
}

func newController(t *testing.T) (*Controller, *health.Checker) {
	return newControllerWith(t, Options{})
}

// newControllerWith returns a controller with opts and its checker, on
// the same clock (opts.Now), stopped when the test ends.
func newControllerWith(t *testing.T, opts Options) (*Controller, *health.Checker) {
	var c *Controller
	checker := health.New(health.Options{Now: opts.Now, OnChange: func() { c.HealthChanged() }})
	c = New(checker, opts)
	t.Cleanup(func() {
		checker.Close()
		c.mu.Lock()
		if c.timer != nil {
			c.timer.Stop()
		}
		c.mu.Unlock()
	})
	return c, checker
}

// testClock is a clock that moves only when the test sets it.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock { return &testClock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// waitFor polls cond until it holds, for at most a minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestRenewalsDoNotRecompile(t *testing.T) {
	c, _ := newController(t)
	now := time.Now()
	c.ResetServices([]*model.Service{service()}, []*model.Endpoint{endpoint("a", "192.0.2.1", time.Minute, now)})
	before := c.Snapshots().Load()
	renewed := endpoint("a", "192.0.2.1", time.Minute, now.Add(time.Second))
	c.UpdateServices(publish.ServiceUpdate{Endpoints: []*model.Endpoint{renewed}})
	if c.Snapshots().Load() != before {
		t.Error("a lease renewal recompiled the steering snapshot")
	}
	moved := endpoint("a", "192.0.2.9", time.Minute, now.Add(time.Second))
	c.UpdateServices(publish.ServiceUpdate{Endpoints: []*model.Endpoint{moved}})
	if got := answer(t, c); len(got) != 1 || got[0] != "192.0.2.9" {
		t.Errorf("after an address change: %v", got)
	}
}

// TestLeaseLapseLeavesAnswersOnTime: the controller sets its timer for
// the moment a lease lapses; when it fires then, the endpoint leaves the
// answers, with a lease event. The test holds the clock and fires the
// timer itself.
func TestLeaseLapseLeavesAnswersOnTime(t *testing.T) {
	var (
		mu    sync.Mutex // guards delay and fire
		delay time.Duration
		fire  func()
	)
	clock := newTestClock()
	c, checker := newControllerWith(t, Options{Now: clock.Now})
	c.afterFunc = func(d time.Duration, f func()) *time.Timer {
		mu.Lock()
		delay, fire = d, f
		mu.Unlock()
		return time.AfterFunc(time.Hour, func() {}) // stopped by the controller or the test
	}
	start := clock.Now()
	c.ResetServices([]*model.Service{service()}, []*model.Endpoint{
		endpoint("short", "192.0.2.1", 300*time.Millisecond, start),
		endpoint("long", "192.0.2.2", time.Hour, start),
	})
	if got := answer(t, c); len(got) != 2 {
		t.Fatalf("before the lapse: %v", got)
	}
	mu.Lock()
	d, f := delay, fire
	mu.Unlock()
	clock.Set(start.Add(d - 2*time.Millisecond)) // woken a little early: nothing lapsed
	if d != 301*time.Millisecond || f == nil {
		t.Fatalf("timer set for %v, want the lapse 300ms away (and a millisecond)", d)
	}
	f()
	if got := answer(t, c); len(got) != 2 {
		t.Fatalf("just before the lapse: %v", got)
	}
	clock.Set(start.Add(d))
	mu.Lock()
	f = fire
	mu.Unlock()
	f()
	if got := answer(t, c); len(got) != 1 || got[0] != "192.0.2.2" {
		t.Fatalf("after the lapse: %v, want only the long lease", got)
	}
	evs := checker.Events(0, 0)
	if len(evs) == 0 || evs[len(evs)-1].Actor != "lease" {
		t.Errorf("no lease event: %+v", evs)
	}
}

func TestPushHealthSteers(t *testing.T) {
	c, checker := newController(t)
	now := time.Now()
	c.ResetServices([]*model.Service{service()}, []*model.Endpoint{endpoint("a", "192.0.2.1", 0, now), endpoint("b", "192.0.2.2", 0, now)})
	if err := checker.Push("api.example.com.|a", false, "maintenance"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the pushed-down endpoint to leave the answers", func() bool {
		got := answer(t, c)
		return len(got) == 1 && got[0] == "192.0.2.2"
	})
}

func TestTargets(t *testing.T) {
	s := &model.Service{Name: "api.example.com.", Pools: []model.Pool{{Name: "p", Check: model.CheckSpec{Type: model.CheckHTTPS, Host: ""}}}}
	s.Normalize()
	tests := []struct {
		ep         model.Endpoint
		host       string
		port       uint16
		serverName string
	}{
		{model.Endpoint{ID: "a", Pool: "p", Address: "192.0.2.1"}, "192.0.2.1", 443, ""},
		{model.Endpoint{ID: "b", Pool: "p", Address: "fn.example.net"}, "fn.example.net", 443, "fn.example.net"},
		{model.Endpoint{ID: "c", Pool: "p", Address: "fn.example.net", CheckTarget: "198.51.100.9:8443"}, "198.51.100.9", 8443, "fn.example.net"},
	}
	for _, tc := range tests {
		tc.ep.Normalize()
		tg := (&Controller{parsed: map[string]steer.Target{}}).target(s, &s.Pools[0], &tc.ep)
		if tg.Host != tc.host || tg.Port != tc.port || tg.ServerName != tc.serverName {
			t.Errorf("%s: %+v", tc.ep.ID, tg)
		}
	}
}
