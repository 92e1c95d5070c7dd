package steerctl

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/stratusdns/stratus/internal/clock"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/steer"
)

// A controller that first sees a service already answering from a
// fallback tier (a node started, or a new leader took over, in the
// middle of a failover; here with cold_start: down) reports that
// failover as active, and alerts failover_ended when the answers come
// back to the first tier: the receiver had failover_started from
// before, and must hear that it ended.
func TestFailoverSeenFirstMidway(t *testing.T) {
	const svc = "api.example.com."
	clk := clock.NewFake(epoch)
	rec := &recorder{}
	reg := prometheus.NewRegistry()
	c, checker := newControllerWith(t, Options{Clock: clk, Alerts: rec, Metrics: reg})
	s := tiered(model.AllDown{Mode: model.AllDownServFail})
	s.ColdStart.Mode = model.ColdDown
	c.ResetServices([]*model.Service{s}, []*model.Endpoint{
		leased("a", "p1", "192.0.2.1", time.Hour, clk.Now()),
		leased("b", "p2", "192.0.2.2", time.Hour, clk.Now()),
	})
	// healthy waits for the pools' healthy counts, with both pushed
	// results compiled (p1 reads 0 with a's result or without it).
	healthy := func(want map[string]int) func() bool {
		return func() bool {
			s := c.Snapshots().Load().Service(string(model.Name(svc).Wire()))
			for _, p := range s.Pools {
				if p.Healthy != want[p.Spec.Name] {
					return false
				}
			}
			return !slices.ContainsFunc(s.Endpoints, func(e steer.Endpoint) bool { return e.Health.State == steer.Unknown })
		}
	}
	if err := checker.Push(svc+"|b", true, "up"); err != nil {
		t.Fatal(err)
	}
	if err := checker.Push(svc+"|a", false, "down"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "answers from p2", healthy(map[string]int{"p1": 0, "p2": 1}))
	settled(c)
	if got := testutil.ToFloat64(c.metrics.active.WithLabelValues(svc)); got != 1 {
		t.Errorf("stratus_steering_failover_active while answering from the fallback tier: %v, want 1", got)
	}
	if err := checker.Push(svc+"|a", true, "up"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "answers from p1", healthy(map[string]int{"p1": 1, "p2": 1}))
	settled(c)
	if got := rec.lines(); !slices.ContainsFunc(got, func(l string) bool { return strings.HasPrefix(l, "failover_ended ") }) {
		t.Errorf("no failover_ended alert when the answers came back to p1; alerts:\n%s", strings.Join(got, "\n"))
	}
}

// TestFailoverFirstSight checks what a controller that has just
// started (no check result yet, whatever its cold start) alerts and
// reports: nothing until every checked endpoint of the first tier has
// a check result, then the failover as it stands, without an alert;
// an endpoint's first result is no endpoint_down or endpoint_up; from
// then on, every change is alerted.
func TestFailoverFirstSight(t *testing.T) {
	const svc = "api.example.com."
	type step struct {
		push   map[string]bool // endpoint id: up
		alerts []string        // kinds, in order
		active float64
		ended  float64
	}
	restartMidway := []step{
		{push: map[string]bool{"b": true}},             // p1 has no result yet: not seen
		{push: map[string]bool{"a": false}, active: 1}, // seen, in a failover
		{push: map[string]bool{"b": false}, active: 1, alerts: []string{"endpoint_down", "all_down_engaged"}},
		{push: map[string]bool{"a": true}, ended: 1, alerts: []string{"endpoint_up", "failover_ended"}},
	}
	restartHealthy := []step{
		{push: map[string]bool{"a": true}}, // seen, healthy
		{push: map[string]bool{"b": true}},
		{push: map[string]bool{"a": false}, active: 1, alerts: []string{"endpoint_down", "failover_started"}},
	}
	tests := []struct {
		name  string
		cold  string
		steps []step
	}{
		{"midway, cold start healthy", model.ColdHealthy, restartMidway},
		{"midway, cold start down", model.ColdDown, restartMidway},
		{"healthy, cold start healthy", model.ColdHealthy, restartHealthy},
		{"healthy, cold start down", model.ColdDown, restartHealthy},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := clock.NewFake(epoch)
			rec := &recorder{}
			reg := prometheus.NewRegistry()
			c, checker := newControllerWith(t, Options{Clock: clk, Alerts: rec, Metrics: reg})
			s := tiered(model.AllDown{Mode: model.AllDownServFail})
			s.ColdStart.Mode = tc.cold
			c.ResetServices([]*model.Service{s}, []*model.Endpoint{
				leased("a", "p1", "192.0.2.1", time.Hour, clk.Now()),
				leased("b", "p2", "192.0.2.2", time.Hour, clk.Now()),
			})
			states := map[string]steer.HealthState{}
			var kinds []string
			for i, st := range tc.steps {
				for id, up := range st.push {
					if err := checker.Push(svc+"|"+id, up, "pushed"); err != nil {
						t.Fatal(err)
					}
					states[svc+"|"+id] = map[bool]steer.HealthState{true: steer.Up, false: steer.Down}[up]
				}
				waitFor(t, fmt.Sprintf("step %d compiled", i), func() bool {
					for _, e := range c.Snapshots().Load().Service(string(model.Name(svc).Wire())).Endpoints {
						if want, ok := states[e.Key]; ok && e.Health.State != want {
							return false
						}
					}
					return true
				})
				settled(c)
				kinds = append(kinds, st.alerts...)
				var got []string
				for _, l := range rec.lines() {
					got = append(got, strings.Fields(l)[0])
				}
				if !slices.Equal(got, kinds) {
					t.Errorf("step %d: alerts %q, want %q", i, got, kinds)
				}
				if got := testutil.ToFloat64(c.metrics.active.WithLabelValues(svc)); got != st.active {
					t.Errorf("step %d: stratus_steering_failover_active %v, want %v", i, got, st.active)
				}
				started := 0.0
				for _, k := range kinds {
					if k == "failover_started" {
						started++
					}
				}
				if got := testutil.ToFloat64(c.metrics.started.WithLabelValues(svc)); got != started {
					t.Errorf("step %d: stratus_steering_failovers_started_total %v, want %v", i, got, started)
				}
				if got := testutil.ToFloat64(c.metrics.ended.WithLabelValues(svc)); got != st.ended {
					t.Errorf("step %d: stratus_steering_failovers_ended_total %v, want %v", i, got, st.ended)
				}
			}
		})
	}
}
