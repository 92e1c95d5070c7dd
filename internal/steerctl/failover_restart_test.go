package steerctl

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/stratusdns/stratus/internal/clock"
	"github.com/stratusdns/stratus/internal/model"
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
	healthy := func(want map[string]int) func() bool {
		return func() bool {
			for _, p := range c.Snapshots().Load().Service(string(model.Name(svc).Wire())).Pools {
				if p.Healthy != want[p.Spec.Name] {
					return false
				}
			}
			return true
		}
	}
	if err := checker.Push(svc+"|b", true, "up"); err != nil {
		t.Fatal(err)
	}
	if err := checker.Push(svc+"|a", false, "down"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "answers from p2", healthy(map[string]int{"p1": 0, "p2": 1}))
	if got := testutil.ToFloat64(c.metrics.active.WithLabelValues(svc)); got != 1 {
		t.Errorf("stratus_steering_failover_active while answering from the fallback tier: %v, want 1", got)
	}
	if err := checker.Push(svc+"|a", true, "up"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "answers from p1", healthy(map[string]int{"p1": 1, "p2": 1}))
	if got := rec.lines(); !slices.ContainsFunc(got, func(l string) bool { return strings.HasPrefix(l, "failover_ended ") }) {
		t.Errorf("no failover_ended alert when the answers came back to p1; alerts:\n%s", strings.Join(got, "\n"))
	}
}
