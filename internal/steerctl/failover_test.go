package steerctl

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/stratusdns/stratus/internal/alert"
	"github.com/stratusdns/stratus/internal/clock"
	"github.com/stratusdns/stratus/internal/health"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/publish"
	"github.com/stratusdns/stratus/internal/steer"
	"github.com/stratusdns/stratus/internal/zone"
)

// recorder is an alert.Sink that keeps what it is given.
type recorder struct {
	mu  sync.Mutex
	evs []alert.Event
}

func (r *recorder) Emit(ev alert.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.evs = append(r.evs, ev)
}

// lines renders the alerts as "kind service pool endpoint | summary |
// details", the details sorted by key.
func (r *recorder) lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, ev := range r.evs {
		var d []string
		for _, k := range slices.Sorted(maps.Keys(ev.Details)) {
			d = append(d, k+"="+ev.Details[k])
		}
		out = append(out, fmt.Sprintf("%s %s %s %s | %s | %s", ev.Kind, ev.Service, ev.Pool, ev.Endpoint, ev.Summary, strings.Join(d, " ")))
	}
	return out
}

// tiered is a failover service with two push-checked tiers, p1 and p2.
func tiered(allDown model.AllDown) *model.Service {
	push := model.CheckSpec{Type: model.CheckPush, PushTTL: model.Duration(24 * time.Hour)}
	s := &model.Service{Name: "api.example.com.", Policy: model.PolicyFailover, WhenAllDown: allDown, Pools: []model.Pool{
		{Name: "p1", Priority: 1, Check: push},
		{Name: "p2", Priority: 2, Check: push},
	}}
	s.Normalize()
	return s
}

// TestFailoverAlertsAndMetrics drives the endpoints of a two-tier
// service down and up (pushed health, on a fake clock) and checks, step
// by step, the alerts emitted (kinds, order, fields), the failover
// counters and gauge, and the events logged.
func TestFailoverAlertsAndMetrics(t *testing.T) {
	const svc = "api.example.com."
	type step struct {
		name   string
		push   map[string]bool // endpoint id: up
		step   time.Duration   // the clock moves (leases lapse)
		alerts []string
		// after the step
		started, ended, active float64
		healthy                map[string]float64 // by pool
	}
	tests := []struct {
		name    string
		allDown model.AllDown
		steps   []step
	}{
		{"fail open", model.AllDown{Mode: model.AllDownFailOpen}, []step{
			{name: "all up", push: map[string]bool{"a": true, "b": true}, healthy: map[string]float64{"p1": 1, "p2": 1}},
			{name: "first tier down", push: map[string]bool{"a": false}, alerts: []string{
				"endpoint_down " + svc + " p1 a | " + svc + ": endpoint a (pool p1) is down: check: down (pushed down) | address=192.0.2.1 reason=check: down (pushed down)",
				"failover_started " + svc + " p2  | " + svc + ": failover from pool p1 to p2: pool p1: 0 of 1 endpoints up, fewer than min_healthy 1 | from_pool=p1 reason=pool p1: 0 of 1 endpoints up, fewer than min_healthy 1 to_pool=p2",
			}, started: 1, active: 1, healthy: map[string]float64{"p1": 0, "p2": 1}},
			{name: "fallback down too", push: map[string]bool{"b": false}, alerts: []string{
				"endpoint_down " + svc + " p2 b | " + svc + ": endpoint b (pool p2) is down: check: down (pushed down) | address=192.0.2.2 reason=check: down (pushed down)",
				"all_down_engaged " + svc + " p1  | " + svc + ": no endpoint is answerable: answering its when_all_down policy (fail_open, pool p1) | from_pool=p2 policy=fail_open reason=pool p1: 0 of 1 endpoints up, fewer than min_healthy 1 to_pool=p1",
			}, started: 1, active: 1, healthy: map[string]float64{"p1": 0, "p2": 0}},
			{name: "first tier back", push: map[string]bool{"a": true}, alerts: []string{
				"endpoint_up " + svc + " p1 a | " + svc + ": endpoint a (pool p1) is up again: check: up | address=192.0.2.1 reason=check: up",
				"failover_ended " + svc + " p1  | " + svc + ": answers are back on pool p1 | from_pool=p1 reason=pool p1: 1 of 1 endpoints up to_pool=p1",
			}, started: 1, ended: 1, healthy: map[string]float64{"p1": 1, "p2": 0}},
			{name: "a lease lapses", step: 2 * time.Minute, alerts: []string{
				"lease_lapsed " + svc + " p1 a | " + svc + ": the lease of endpoint a (pool p1) lapsed at 2030-01-02T03:05:05Z | address=192.0.2.1 expired=2030-01-02T03:05:05Z lease_ttl=1m0s",
				"failover_started " + svc + " p2  | " + svc + ": failover from pool p1 to its when_all_down policy (fail_open, pool p2): pool p1: 0 of 0 endpoints up, fewer than min_healthy 1 | from_pool=p1 reason=pool p1: 0 of 0 endpoints up, fewer than min_healthy 1 to_pool=p2",
				"all_down_engaged " + svc + " p2  | " + svc + ": no endpoint is answerable: answering its when_all_down policy (fail_open, pool p2) | from_pool=p1 policy=fail_open reason=pool p1: 0 of 0 endpoints up, fewer than min_healthy 1 to_pool=p2",
			}, started: 2, ended: 1, active: 1, healthy: map[string]float64{"p1": 0, "p2": 0}},
		}},
		{"fallback pool, flapping", model.AllDown{Mode: model.AllDownFallback, Pool: "p2"}, []step{
			{name: "all up", push: map[string]bool{"a": true, "b": true}, healthy: map[string]float64{"p1": 1, "p2": 1}},
			// One push at a time: two pushed together may be compiled
			// together or one after the other, and the alerts differ.
			{name: "the first tier down", push: map[string]bool{"a": false}, alerts: []string{
				"endpoint_down " + svc + " p1 a | " + svc + ": endpoint a (pool p1) is down: check: down (pushed down) | address=192.0.2.1 reason=check: down (pushed down)",
				"failover_started " + svc + " p2  | " + svc + ": failover from pool p1 to p2: pool p1: 0 of 1 endpoints up, fewer than min_healthy 1 | from_pool=p1 reason=pool p1: 0 of 1 endpoints up, fewer than min_healthy 1 to_pool=p2",
			}, started: 1, active: 1, healthy: map[string]float64{"p1": 0, "p2": 1}},
			{name: "the fallback down too", push: map[string]bool{"b": false}, alerts: []string{
				"endpoint_down " + svc + " p2 b | " + svc + ": endpoint b (pool p2) is down: check: down (pushed down) | address=192.0.2.2 reason=check: down (pushed down)",
				"all_down_engaged " + svc + " p2  | " + svc + ": no endpoint is answerable: answering its when_all_down policy (fallback, pool p2) | from_pool=p2 policy=fallback reason=pool p1: 0 of 1 endpoints up, fewer than min_healthy 1 to_pool=p2",
			}, started: 1, active: 1, healthy: map[string]float64{"p1": 0, "p2": 0}},
			{name: "the fallback tier back", push: map[string]bool{"b": true}, alerts: []string{
				"endpoint_up " + svc + " p2 b | " + svc + ": endpoint b (pool p2) is up again: check: up | address=192.0.2.2 reason=check: up",
			}, started: 1, active: 1, healthy: map[string]float64{"p1": 0, "p2": 1}},
			{name: "all back", push: map[string]bool{"a": true}, alerts: []string{
				"endpoint_up " + svc + " p1 a | " + svc + ": endpoint a (pool p1) is up again: check: up | address=192.0.2.1 reason=check: up",
				"failover_ended " + svc + " p1  | " + svc + ": answers are back on pool p1 | from_pool=p2 reason=pool p1: 1 of 1 endpoints up to_pool=p1",
			}, started: 1, ended: 1, healthy: map[string]float64{"p1": 1, "p2": 1}},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := clock.NewFake(epoch)
			rec := &recorder{}
			reg := prometheus.NewRegistry()
			c, checker := newControllerWith(t, Options{Clock: clk, Alerts: rec, Metrics: reg})
			c.ResetServices([]*model.Service{tiered(tc.allDown)}, []*model.Endpoint{
				leased("a", "p1", "192.0.2.1", time.Minute, clk.Now()),
				leased("b", "p2", "192.0.2.2", time.Hour, clk.Now()),
			})
			var want []string
			pushed := map[string]steer.HealthState{} // by key
			for _, s := range tc.steps {
				for _, id := range slices.Sorted(maps.Keys(s.push)) {
					if err := checker.Push(svc+"|"+id, s.push[id], "pushed "+map[bool]string{true: "up", false: "down"}[s.push[id]]); err != nil {
						t.Fatal(err)
					}
					pushed[svc+"|"+id] = map[bool]steer.HealthState{true: steer.Up, false: steer.Down}[s.push[id]]
				}
				if s.step > 0 {
					clk.Step(s.step)
				}
				want = append(want, s.alerts...)
				waitFor(t, s.name+": the healthy endpoints to be counted", func() bool {
					snap := c.Snapshots().Load().Service(string(model.Name(svc).Wire()))
					for _, p := range snap.Pools {
						if float64(p.Healthy) != s.healthy[p.Spec.Name] {
							return false
						}
					}
					// Each result pushed is compiled (a cold start
					// counts as up as well).
					for _, e := range snap.Endpoints {
						if st, ok := pushed[e.Key]; ok && e.Health.State != st {
							return false
						}
					}
					return len(rec.lines()) >= len(want)
				})
				settled(c)
				if got := rec.lines(); !slices.Equal(got, want) {
					t.Fatalf("%s: alerts\n%s\nwant\n%s", s.name, strings.Join(got, "\n"), strings.Join(want, "\n"))
				}
				m := c.metrics
				got := []float64{testutil.ToFloat64(m.started.WithLabelValues(svc)), testutil.ToFloat64(m.ended.WithLabelValues(svc)), testutil.ToFloat64(m.active.WithLabelValues(svc))}
				if w := []float64{s.started, s.ended, s.active}; !slices.Equal(got, w) {
					t.Fatalf("%s: failovers started, ended, active = %v, want %v", s.name, got, w)
				}
				var exp strings.Builder
				exp.WriteString("# HELP stratus_steering_healthy_endpoints Endpoints of each service's pools that are up (checks, overrides, cold start), as steering answers from them now.\n# TYPE stratus_steering_healthy_endpoints gauge\n")
				for _, p := range []string{"p1", "p2"} {
					fmt.Fprintf(&exp, "stratus_steering_healthy_endpoints{pool=%q,service=%q} %v\n", p, svc, s.healthy[p])
				}
				if err := testutil.GatherAndCompare(reg, strings.NewReader(exp.String()), "stratus_steering_healthy_endpoints"); err != nil {
					t.Fatalf("%s: %v", s.name, err)
				}
			}
			var fo []string
			for _, ev := range checker.Events(0, 0) {
				if ev.Actor == ActorSteering {
					fo = append(fo, ev.Key+": "+ev.Reason)
				}
			}
			if len(fo) == 0 || !strings.HasPrefix(fo[0], svc+"|pool:p1: failover started") {
				t.Errorf("failover events: %q", fo)
			}
		})
	}
}

// leased is an endpoint of pool with a lease.
func leased(id, pool, addr string, lease time.Duration, now time.Time) *model.Endpoint {
	e := endpoint(id, addr, lease, now)
	e.Pool = pool
	return e
}

// TestSteeringMetricsGathered checks the series read at scrape time:
// endpoints and healthy endpoints per pool, leases, recompiles, and
// answers counted per reason across recompiles, with a deleted
// service's gauges gone.
func TestSteeringMetricsGathered(t *testing.T) {
	clk := clock.NewFake(epoch)
	reg := prometheus.NewRegistry()
	c, checker := newControllerWith(t, Options{Clock: clk, Metrics: reg})
	c.ResetServices([]*model.Service{tiered(model.AllDown{Mode: model.AllDownServFail})}, []*model.Endpoint{
		leased("a", "p1", "192.0.2.1", time.Minute, clk.Now()),
		leased("b", "p2", "192.0.2.2", 0, clk.Now()),
	})
	var cl zone.Client // one worker
	ask := func(n int) {
		for range n {
			cl.Begin()
			c.Snapshots().Load().Steer(string(model.Name("api.example.com.").Wire()), 1, &cl)
		}
	}
	ask(3) // healthy, from p1 (cold start: healthy)
	push := func(id string, up bool, healthy int) {
		if err := checker.Push("api.example.com.|"+id, up, "test"); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the push to be compiled", func() bool {
			n := 0
			for _, p := range c.Snapshots().Load().Service(string(model.Name("api.example.com.").Wire())).Pools {
				n += p.Healthy
			}
			return n == healthy
		})
	}
	push("a", false, 1)
	ask(2) // fallback, from p2
	push("b", false, 0)
	ask(1) // all down: SERVFAIL
	push("a", true, 1)
	ask(4) // healthy again: the counts go on
	recompiles := testutil.ToFloat64(c.metrics.recompiles)
	if recompiles < 4 {
		t.Errorf("recompiles: %v, want at least 4 (reset and 3 health changes)", recompiles)
	}
	want := `
# HELP stratus_steering_answers_total Answers to queries for steered names, by service, pool answered from ("" for a static answer, SERVFAIL or no records) and reason: healthy (the first tier), fallback (a lower tier), all_down (the when_all_down policy).
# TYPE stratus_steering_answers_total counter
stratus_steering_answers_total{pool="",reason="all_down",service="api.example.com."} 1
stratus_steering_answers_total{pool="p1",reason="healthy",service="api.example.com."} 7
stratus_steering_answers_total{pool="p2",reason="fallback",service="api.example.com."} 2
# HELP stratus_steering_endpoints Endpoints of each service's pools, as steering answers from them now.
# TYPE stratus_steering_endpoints gauge
stratus_steering_endpoints{pool="p1",service="api.example.com."} 1
stratus_steering_endpoints{pool="p2",service="api.example.com."} 1
# HELP stratus_health_leases_active Endpoints registered with a lease that has not lapsed.
# TYPE stratus_health_leases_active gauge
stratus_health_leases_active 1
# HELP stratus_steering_failover_active 1 while a failover of the service is running (started, not ended), else 0.
# TYPE stratus_steering_failover_active gauge
stratus_steering_failover_active{service="api.example.com."} 0
`
	names := []string{"stratus_steering_answers_total", "stratus_steering_endpoints", "stratus_health_leases_active", "stratus_steering_failover_active"}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
	c.UpdateServices(publish.ServiceUpdate{DeletedServices: []model.Name{"api.example.com."}})
	if n, err := testutil.GatherAndCount(reg, "stratus_steering_endpoints", "stratus_steering_failover_active"); err != nil || n != 0 {
		t.Errorf("series of a deleted service: %d (%v), want none", n, err)
	}
	if n, err := testutil.GatherAndCount(reg, "stratus_steering_answers_total"); err != nil || n != 3 {
		t.Errorf("answers series after the deletion: %d (%v), want the 3 counted", n, err)
	}
	_ = health.Up
}

// TestMetricsOff checks that without a registry nothing is counted on
// the query path and the controller works.
func TestMetricsOff(t *testing.T) {
	c, _ := newControllerWith(t, Options{Clock: clock.NewFake(epoch)})
	c.ResetServices([]*model.Service{tiered(model.AllDown{})}, []*model.Endpoint{leased("a", "p1", "192.0.2.1", 0, epoch)})
	var cl zone.Client
	cl.Begin()
	if _, rcode := c.Snapshots().Load().Steer(string(model.Name("api.example.com.").Wire()), 1, &cl); rcode != 0 || cl.Meter != nil {
		t.Errorf("rcode %d, meter %v: want an answer, uncounted", rcode, cl.Meter)
	}
}
