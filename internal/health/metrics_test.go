package health

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/stratusdns/stratus/internal/model"
)

// TestMetrics drives a target up, down (a hard failure confirmed at
// once), up and, flapping, down into a hold-down, and checks what the
// checker's metrics counted at each step.
func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	c, clock := newSteppedChecker(t, Options{Metrics: reg})
	timeoutResult := result{err: "timeout after 1s", hard: true, timeout: true}
	fake := &fakeProber{}
	useFakes(c, map[string]*fakeProber{"k": fake})
	tg := newTarget(c, Target{Key: "k", Host: "127.0.0.1", Port: 1,
		Check:   spec(model.CheckHTTPS, func(s *model.CheckSpec) { s.Rise, s.Fall = 1, 2 }),
		Damping: model.Damping{Flaps: 2, Window: model.Duration(time.Minute), HoldDown: model.Duration(time.Minute)},
	})
	c.mu.Lock()
	c.targets["k"] = tg // for the damped gauge; never started
	c.mu.Unlock()
	t.Cleanup(func() { c.mu.Lock(); delete(c.targets, "k"); c.mu.Unlock() })
	probes := func(result string) float64 {
		return testutil.ToFloat64(c.metrics.probes.WithLabelValues(model.CheckHTTPS, result))
	}
	to := func(s string) float64 { return testutil.ToFloat64(c.metrics.transitions.WithLabelValues(s)) }
	steps := []struct {
		name    string
		results []result // the cycle's probes
		state   State
		// counted so far
		success, failure, timeout, up, down, confirming, holds, damped float64
	}{
		{"first check", []result{okResult}, Up, 1, 0, 0, 1, 0, 0, 0, 0},
		{"refused, confirmed at once", []result{hardResult, hardResult}, Down, 1, 2, 0, 1, 1, 1, 0, 0},
		{"timed out", []result{timeoutResult}, Down, 1, 2, 1, 1, 1, 1, 0, 0},
		{"back", []result{okResult}, Up, 2, 2, 1, 2, 1, 1, 0, 0},
		{"a soft failure", []result{softResult}, Up, 2, 3, 1, 2, 1, 1, 0, 0},
		{"a third flap: held down", []result{softResult}, Down, 2, 4, 1, 2, 2, 1, 1, 1},
	}
	for _, s := range steps {
		clock.Step(time.Second)
		fake.mu.Lock()
		fake.results, fake.rest = s.results[1:], s.results[0]
		if len(s.results) > 1 {
			fake.results, fake.rest = s.results, okResult
		}
		fake.mu.Unlock()
		tg.cycle(context.Background())
		got := []float64{probes(resultSuccess), probes(resultFailure), probes(resultTimeout), to("up"), to("down"),
			testutil.ToFloat64(c.metrics.confirming), testutil.ToFloat64(c.metrics.holddowns), float64(c.damped())}
		want := []float64{s.success, s.failure, s.timeout, s.up, s.down, s.confirming, s.holds, s.damped}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%s: success, failure, timeout, up, down, confirming, holds, damped = %v, want %v", s.name, got, want)
			}
		}
		if st := tg.status(); st.State != s.state {
			t.Fatalf("%s: state %v, want %v", s.name, st.State, s.state)
		}
	}
	tg.expire(clock.Now().Add(2 * time.Minute))
	if err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP stratus_health_damped_endpoints Endpoints held down by damping now.
# TYPE stratus_health_damped_endpoints gauge
stratus_health_damped_endpoints 0
# HELP stratus_health_damping_holddowns_total Endpoints held down by damping for flapping (holds started).
# TYPE stratus_health_damping_holddowns_total counter
stratus_health_damping_holddowns_total 1
`), "stratus_health_damped_endpoints", "stratus_health_damping_holddowns_total"); err != nil {
		t.Error(err)
	}
	if n, err := testutil.GatherAndCount(reg, "stratus_health_probe_duration_seconds"); err != nil || n != 4 {
		t.Errorf("probe duration series: %d, %v; want one per check type", n, err)
	}
	if h := histogramCount(t, reg, "stratus_health_probe_duration_seconds", model.CheckHTTPS); h != 7 {
		t.Errorf("https probes timed: %d, want 7", h)
	}
}

// histogramCount returns the sample count of a histogram's series with
// check label check.
func histogramCount(t *testing.T, reg *prometheus.Registry, name, check string) uint64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "check" && l.GetValue() == check {
					return m.GetHistogram().GetSampleCount()
				}
			}
		}
	}
	return 0
}

// TestMetricsUnregistered checks that a checker without a registry
// counts without exporting or failing.
func TestMetricsUnregistered(t *testing.T) {
	var reg *prometheus.Registry // a typed nil, as a node with metrics off may pass
	c, _ := newSteppedChecker(t, Options{Metrics: reg})
	tg := newTarget(c, Target{Key: "k", Host: "127.0.0.1", Port: 1, Check: spec(model.CheckHTTP, nil)})
	tg.apply(okResult)
	if got := testutil.ToFloat64(c.metrics.transitions.WithLabelValues("up")); got != 1 {
		t.Errorf("transitions to up: %v, want 1", got)
	}
}
