package steerctl

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/clock"
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

// epoch is where the tests' fake clocks start.
var epoch = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// newControllerWith returns a controller with opts and its checker, on
// the same clock (opts.Clock; its Now for the checker's statuses and
// events), both stopped when the test ends.
func newControllerWith(t *testing.T, opts Options) (*Controller, *health.Checker) {
	var c *Controller
	hopts := health.Options{OnChange: func(ctx context.Context, keys []string) { c.HealthChanged(ctx, keys) }}
	if opts.Clock != nil {
		hopts.Clock = opts.Clock
	}
	checker := health.New(hopts)
	c = New(checker, opts)
	t.Cleanup(func() {
		c.Close()
		checker.Close()
	})
	return c, checker
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

// settled waits for the controller to finish the compile whose snapshot
// a test saw: a rebuild publishes the snapshot, then (still holding c.mu)
// records lapses and emits alerts and metrics.
func settled(c *Controller) {
	c.mu.Lock()
	defer c.mu.Unlock()
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
// the moment a lease lapses (and a millisecond); when the clock gets
// there, the endpoint leaves the answers, with a lease event, and not a
// moment before.
func TestLeaseLapseLeavesAnswersOnTime(t *testing.T) {
	clk := clock.NewFake(epoch)
	c, checker := newControllerWith(t, Options{Clock: clk})
	start := clk.Now()
	c.ResetServices([]*model.Service{service()}, []*model.Endpoint{
		endpoint("short", "192.0.2.1", 300*time.Millisecond, start),
		endpoint("long", "192.0.2.2", time.Hour, start),
	})
	if got := answer(t, c); len(got) != 2 {
		t.Fatalf("before the lapse: %v", got)
	}
	lapse := start.Add(301 * time.Millisecond)
	if next, ok := clk.Next(); !ok || !next.Equal(lapse) {
		t.Fatalf("next timer at %v (%v), want the lapse 300ms away (and a millisecond)", next, ok)
	}
	before := c.Snapshots().Load()
	clk.Set(lapse.Add(-time.Millisecond)) // no timer is due: nothing runs
	if c.Snapshots().Load() != before {
		t.Fatal("recompiled before the lapse")
	}
	clk.Set(lapse)
	waitFor(t, "the lapsed endpoint to leave the answers", func() bool {
		got := answer(t, c)
		return len(got) == 1 && got[0] == "192.0.2.2"
	})
	evs := checker.Events(0, 0)
	if len(evs) == 0 || evs[len(evs)-1].Actor != "lease" {
		t.Errorf("no lease event: %+v", evs)
	}
	waitFor(t, "the timer for the long lease", func() bool { return clk.ArmedAt(start.Add(time.Hour+time.Millisecond)) == 1 })
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
