package steer

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/zone"
)

// answers renders a meter's counts as "pool reason n" lines.
func answers(m *Meter) []string {
	var out []string
	for _, a := range m.Answers() {
		out = append(out, fmt.Sprintf("%s %s %s %d", a.Service, a.Pool, a.Reason, a.N))
	}
	return out
}

// TestTierAndAnswersCounted checks, per policy and health, where the
// answers come from (Tier) and that each answer is counted by its pool
// and reason, also across a recompile, which starts from the counts
// where the service left them.
func TestTierAndAnswersCounted(t *testing.T) {
	tests := []struct {
		name   string
		svc    model.Service
		eps    []string
		tier   Tier
		reason string // of the answers counted
		pool   string
	}{
		{"first tier", model.Service{Policy: model.PolicyFailover}, []string{"a p1 192.0.2.1", "b p2 192.0.2.2"},
			Tier{Reason: ReasonHealthy, Pool: "p1", First: "p1", Why: "pool p1: 1 of 1 endpoints up"}, ReasonHealthy, "p1"},
		{"fallback tier", model.Service{Policy: model.PolicyFailover}, []string{"a p1 192.0.2.1 down", "b p2 192.0.2.2"},
			Tier{Reason: ReasonFallback, Pool: "p2", First: "p1", Why: "pool p1: 0 of 1 endpoints up, fewer than min_healthy 1"}, ReasonFallback, "p2"},
		{"drained first tier", model.Service{Policy: model.PolicyFailover}, []string{"a p1 192.0.2.1 drained", "b p2 192.0.2.2"},
			Tier{Reason: ReasonFallback, Pool: "p2", First: "p1", Why: "pool p1: 0 of 1 endpoints up, fewer than min_healthy 1"}, ReasonFallback, "p2"},
		{"all down, failing open", model.Service{Policy: model.PolicyFailover}, []string{"a p1 192.0.2.1 down", "b p2 192.0.2.2 down"},
			Tier{Reason: ReasonAllDown, Pool: "p1", First: "p1", Why: "pool p1: 0 of 1 endpoints up, fewer than min_healthy 1"}, ReasonAllDown, "p1"},
		{"all down, fallback pool", model.Service{Policy: model.PolicyFailover, WhenAllDown: model.AllDown{Mode: model.AllDownFallback, Pool: "p2"}},
			[]string{"a p1 192.0.2.1 down", "b p2 192.0.2.2 down"},
			Tier{Reason: ReasonAllDown, Pool: "p2", First: "p1", Why: "pool p1: 0 of 1 endpoints up, fewer than min_healthy 1"}, ReasonAllDown, "p2"},
		{"all down, servfail", model.Service{Policy: model.PolicyFailover, WhenAllDown: model.AllDown{Mode: model.AllDownServFail}},
			[]string{"a p1 192.0.2.1 down", "b p2 192.0.2.2 down"},
			Tier{Reason: ReasonAllDown, First: "p1", Why: "pool p1: 0 of 1 endpoints up, fewer than min_healthy 1"}, ReasonAllDown, ""},
		{"no endpoints", model.Service{Policy: model.PolicyFailover}, nil,
			Tier{Reason: ReasonAllDown, First: "p1", Why: "pool p1: 0 of 0 endpoints up, fewer than min_healthy 1"}, ReasonAllDown, ""},
		{"weighted, first tier", model.Service{Policy: model.PolicyWeighted}, []string{"a p1 192.0.2.1", "c p1 192.0.2.3", "b p2 192.0.2.2"},
			Tier{Reason: ReasonHealthy, Pool: "p1", First: "p1", Why: "pool p1: 2 of 2 endpoints up"}, ReasonHealthy, "p1"},
		{"weighted, fallback", model.Service{Policy: model.PolicyWeighted}, []string{"a p1 192.0.2.1 down", "c p1 192.0.2.3 down", "b p2 192.0.2.2"},
			Tier{Reason: ReasonFallback, Pool: "p2", First: "p1", Why: "pool p1: 0 of 2 endpoints up, fewer than min_healthy 1"}, ReasonFallback, "p2"},
		{"no priority step: one tier", model.Service{Chain: []string{"health", "first_n:1"}}, []string{"a p1 192.0.2.1 down", "b p2 192.0.2.2"},
			Tier{Reason: ReasonHealthy, Pool: "p2", First: "p1", Why: "pool p1: 0 of 1 endpoints up, fewer than min_healthy 1; pool p2: 1 of 1 endpoints up"}, ReasonHealthy, "p2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			svc := tc.svc
			svc.Pools = pools(model.Pool{Name: "p1", Priority: 1}, model.Pool{Name: "p2", Priority: 2})
			f := newFixture(t, svc, tc.eps...)
			f.meter = NewMeter()
			s := f.snapshot(t, nil, nil)
			owner := string(f.svc.Name.Wire())
			if got := s.Service(owner).Tier(); got != tc.tier {
				t.Errorf("Tier() = %+v, want %+v", got, tc.tier)
			}
			c, c2 := client("10.1.0.9"), client("10.1.0.10") // two workers
			for range 3 {
				c.Begin()
				s.Steer(owner, 1, c)
			}
			c2.Begin()
			s.Steer(owner, 28, c2)
			// Compiled again (as at every change): the counts go on.
			s = f.snapshot(t, nil, nil)
			c.Begin()
			s.Steer(owner, 1, c)
			want := []string{"api.example.com. " + tc.pool + " " + tc.reason + " 5"}
			if got := answers(f.meter); !slices.Equal(got, want) {
				t.Errorf("answers counted = %q, want %q", got, want)
			}
		})
	}
}

// TestAnswersCountedOfWorkersGone checks that the answers of a worker
// that is gone (a TCP connection's) stay counted.
func TestAnswersCountedOfWorkersGone(t *testing.T) {
	f := newFixture(t, model.Service{Policy: model.PolicyFailover, Pools: pools(model.Pool{Name: "p1"})}, "a p1 192.0.2.1")
	f.meter = NewMeter()
	s := f.snapshot(t, nil, nil)
	owner := string(f.svc.Name.Wire())
	func() {
		c := client("10.1.0.9")
		for range 4 {
			c.Begin()
			s.Steer(owner, 1, c)
		}
	}()
	want := []string{"api.example.com. p1 healthy 4"}
	for i := 0; ; i++ {
		runtime.GC()
		f.meter.mu.Lock()
		live := len(f.meter.tables)
		f.meter.mu.Unlock()
		if got := answers(f.meter); !slices.Equal(got, want) {
			t.Fatalf("answers counted = %q, want %q", got, want)
		}
		if live == 0 {
			break
		}
		if i == 1000 {
			t.Fatal("the worker's table was never retired")
		}
		runtime.Gosched()
	}
}

// TestAnswersNotCountedWithoutMeter checks that a service compiled
// without a meter counts nothing and leaves the client alone.
func TestAnswersNotCountedWithoutMeter(t *testing.T) {
	f := newFixture(t, model.Service{Policy: model.PolicyMultivalue, Pools: pools(model.Pool{Name: "p1"})}, "a p1 192.0.2.1")
	s := f.snapshot(t, nil, nil)
	c := client("10.1.0.9")
	if got := ask(t, s, 1, c); !strings.HasPrefix(got, "A ") {
		t.Fatalf("answer %q", got)
	}
	if c.Meter != nil {
		t.Errorf("client has a meter table: %#v", c.Meter)
	}
	var _ *zone.Client = c
}
