package steerctl

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/health"
	"github.com/stratusdns/stratus/internal/model"
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
	var c *Controller
	checker := health.New(health.Options{OnChange: func() { c.HealthChanged() }})
	c = New(checker, Options{})
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

func TestRenewalsDoNotRecompile(t *testing.T) {
	c, _ := newController(t)
	now := time.Now()
	c.ResetServices([]*model.Service{service()}, []*model.Endpoint{endpoint("a", "192.0.2.1", time.Minute, now)})
	before := c.Snapshots().Load()
	renewed := endpoint("a", "192.0.2.1", time.Minute, now.Add(time.Second))
	c.UpdateServices(control.ServiceUpdate{Endpoints: []*model.Endpoint{renewed}})
	if c.Snapshots().Load() != before {
		t.Error("a lease renewal recompiled the steering snapshot")
	}
	moved := endpoint("a", "192.0.2.9", time.Minute, now.Add(time.Second))
	c.UpdateServices(control.ServiceUpdate{Endpoints: []*model.Endpoint{moved}})
	if got := answer(t, c); len(got) != 1 || got[0] != "192.0.2.9" {
		t.Errorf("after an address change: %v", got)
	}
}

// TestLeaseLapseLeavesAnswersOnTime: a lapsed lease leaves the answers,
// not before it lapses, with a lease event. How soon after is measured by
// the failover benchmark (test/e2e), not asserted here: a loaded machine
// can take any time. The lease leaves such a machine time to answer once
// before it lapses.
func TestLeaseLapseLeavesAnswersOnTime(t *testing.T) {
	c, checker := newController(t)
	now := time.Now()
	c.ResetServices([]*model.Service{service()}, []*model.Endpoint{
		endpoint("short", "192.0.2.1", 3*time.Second, now),
		endpoint("long", "192.0.2.2", time.Hour, now),
	})
	if got := answer(t, c); len(got) != 2 {
		t.Fatalf("before the lapse: %v", got)
	}
	deadline := now.Add(3 * time.Second)
	for time.Now().Before(deadline.Add(30 * time.Second)) {
		if got := answer(t, c); len(got) == 1 {
			if late := time.Since(deadline); late < 0 {
				t.Errorf("the lease left the answers %v before it lapsed", -late)
			}
			evs := checker.Events(0, 0)
			if len(evs) == 0 || evs[len(evs)-1].Actor != "lease" {
				t.Errorf("no lease event: %+v", evs)
			}
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("the lapsed endpoint is still answered")
}

func TestPushHealthSteers(t *testing.T) {
	c, checker := newController(t)
	now := time.Now()
	c.ResetServices([]*model.Service{service()}, []*model.Endpoint{endpoint("a", "192.0.2.1", 0, now), endpoint("b", "192.0.2.2", 0, now)})
	if err := checker.Push("api.example.com.|a", false, "maintenance"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if got := answer(t, c); len(got) == 1 && got[0] == "192.0.2.2" {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("pushed-down endpoint still answered: %v", answer(t, c))
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
