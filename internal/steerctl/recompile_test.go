package steerctl

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/clock"
	"github.com/stratusdns/stratus/internal/health"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/steer"
	"go.uber.org/goleak"
)

// compiledNow returns each service's compiled value in the current
// snapshot, by name.
func compiledNow(c *Controller, names []model.Name) map[model.Name]*steer.CompiledService {
	snap := c.Snapshots().Load()
	out := map[model.Name]*steer.CompiledService{}
	for _, n := range names {
		out[n] = snap.Service(string(n.Wire()))
	}
	return out
}

// TestHealthChangeRecompilesItsServicesOnly: a health change recompiles
// the services whose endpoints changed, and leaves every other service's
// compiled value as it was (the same pointer); a reset, or a refresh,
// recompiles them all.
func TestHealthChangeRecompilesItsServicesOnly(t *testing.T) {
	tests := []struct {
		name string
		push []string // endpoint keys pushed up, at once
		want []int    // services recompiled
	}{
		{"one endpoint of one service", []string{"s0.example.com.|e0"}, []int{0}},
		{"two endpoints of one service", []string{"s1.example.com.|e0", "s1.example.com.|e3"}, []int{1}},
		{"endpoints of two services", []string{"s0.example.com.|e1", "s2.example.com.|e2"}, []int{0, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, checker := newController(t)
			svcs, eps := benchServices(4, time.Now())
			var names []model.Name
			for _, s := range svcs {
				names = append(names, s.Name)
			}
			c.ResetServices(svcs, eps)
			before := compiledNow(c, names)
			for _, key := range tt.push {
				if err := checker.Push(key, true, "test"); err != nil {
					t.Fatal(err)
				}
			}
			recompiled := map[model.Name]bool{}
			for _, i := range tt.want {
				recompiled[names[i]] = true
			}
			waitFor(t, fmt.Sprint("services ", tt.want, " to be recompiled"), func() bool {
				now := compiledNow(c, names)
				for n := range recompiled {
					if now[n] == before[n] {
						return false
					}
				}
				return true
			})
			// Wait for the notifications of every push to be handled.
			waitFor(t, "the pushes to be compiled", func() bool {
				now := compiledNow(c, names)
				for _, key := range tt.push {
					svc, id, _ := cutKey(key)
					if !pushedUp(now[svc], id) {
						return false
					}
				}
				return true
			})
			now := compiledNow(c, names)
			for _, n := range names {
				if !recompiled[n] && now[n] != before[n] {
					t.Errorf("%s was recompiled, though none of its endpoints changed", n)
				}
			}
			c.Refresh()
			after := compiledNow(c, names)
			for _, n := range names {
				if after[n] == now[n] {
					t.Errorf("a refresh did not recompile %s", n)
				}
			}
			c.ResetServices(svcs, eps)
			reset := compiledNow(c, names)
			for _, n := range names {
				if reset[n] == after[n] {
					t.Errorf("a reset did not recompile %s", n)
				}
			}
		})
	}
}

// cutKey splits "<service>|<id>".
func cutKey(key string) (model.Name, string, bool) {
	for i := len(key) - 1; i >= 0; i-- {
		if key[i] == '|' {
			return model.Name(key[:i]), key[i+1:], true
		}
	}
	return "", "", false
}

// pushedUp reports whether a compiled service has endpoint id up by its
// check.
func pushedUp(s *steer.CompiledService, id string) bool {
	for i := range s.Endpoints {
		if s.Endpoints[i].Spec.ID == id {
			return s.Endpoints[i].Health.State == steer.Up
		}
	}
	return false
}

// TestTimersRecompileTheirServiceOnly: when a lease lapses or a
// cold-start wait ends, the timer recompiles that service, and every
// other service keeps its compiled value.
func TestTimersRecompileTheirServiceOnly(t *testing.T) {
	clk := clock.NewFake(epoch)
	c, _ := newControllerWith(t, Options{Clock: clk})
	svcs, eps := benchServices(4, epoch)
	var names []model.Name
	for _, s := range svcs {
		names = append(names, s.Name)
	}
	svcs[1].ColdStart = model.ColdStart{Mode: model.ColdWait, Wait: model.Duration(10 * time.Second)}
	leased := *eps[0] // s0's e0
	leased.LeaseTTL, leased.Expires = model.Duration(time.Minute), epoch.Add(time.Minute)
	eps[0] = &leased
	c.ResetServices(svcs, eps)
	steps := []struct {
		what  string
		at    time.Duration
		which int // the service recompiled
	}{
		{"the cold-start wait of s1 ends", 10*time.Second + time.Millisecond, 1},
		{"the lease of s0|e0 lapses", time.Minute + time.Millisecond, 0},
	}
	for _, st := range steps {
		// The previous step's recompilation arms the timers anew on its
		// own goroutine: wait until this step's is armed.
		waitFor(t, st.what+": one timer armed", func() bool { return clk.ArmedAt(epoch.Add(st.at)) == 1 })
		before := compiledNow(c, names)
		clk.Set(epoch.Add(st.at))
		waitFor(t, st.what, func() bool { return compiledNow(c, names)[names[st.which]] != before[names[st.which]] })
		now := compiledNow(c, names)
		for i, n := range names {
			if i != st.which && now[n] != before[n] {
				t.Errorf("%s: %s was recompiled too", st.what, n)
			}
		}
	}
	if got := c.EndpointStates(names[0])["e0"]; got.Answerable {
		t.Errorf("s0|e0 after its lease lapsed: %+v", got)
	}
	if got := c.EndpointStates(names[1])["e0"]; !got.Answerable {
		t.Errorf("s1|e0 after its cold-start wait: %+v", got)
	}
}

// TestCloseStopsEverything: Close stops the flattening loop, the writing
// of events (writing what is left) and every timer, and returns when they
// have stopped; after it, health changes and timers recompile nothing.
func TestCloseStopsEverything(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	p := startPersisting(t, filepath.Join(t.TempDir(), "stratus.db"))
	defer p.st.Close()
	defer p.checker.Close()
	svcs, eps := benchServices(2, epoch)
	leased := *eps[0]
	leased.LeaseTTL, leased.Expires = model.Duration(time.Minute), epoch.Add(time.Minute)
	eps[0] = &leased
	defer p.ctrl.Close() // also when the test stops early
	p.ctrl.ResetServices(svcs, eps)
	waitFor(t, "the lease's timer and the flattening loop's", func() bool { return p.clk.Armed() >= 2 })
	p.record(3, "before the close")
	p.ctrl.Close()
	if p.evl.Last() != 3 {
		t.Errorf("last stored event %d after Close, want 3", p.evl.Last())
	}
	p.checker.Close() // the checker's timers run on the same clock
	if n := p.clk.Armed(); n != 0 {
		t.Errorf("%d timers armed after Close", n)
	}
	before := p.ctrl.Snapshots().Load()
	p.ctrl.HealthChanged(context.Background(), []string{"s0.example.com.|e0"})
	p.clk.Step(time.Hour)
	if p.ctrl.Snapshots().Load() != before {
		t.Error("recompiled after Close")
	}
	p.ctrl.Close() // again: nothing to do
}

// source is a HealthSource that says what the test sets, whatever the
// checker found.
type source map[string]health.Status

func (s source) Status(key string) (health.Status, bool) { st, ok := s[key]; return st, ok }

// TestHealthFromOptionsHealth: with Options.Health (a cluster's merged
// view), steering compiles and shows the health it gives, not the
// checker's own.
func TestHealthFromOptionsHealth(t *testing.T) {
	merged := source{"s0.example.com.|e0": {State: health.Down, View: "2 of 3 nodes see it down (b, c)"}}
	c, checker := newControllerWith(t, Options{Health: merged})
	svcs, eps := benchServices(1, time.Now())
	c.ResetServices(svcs, eps)
	if err := checker.Push("s0.example.com.|e0", true, "test"); err != nil {
		t.Fatal(err)
	}
	c.HealthChanged(context.Background(), []string{"s0.example.com.|e0"})
	if s := compiledNow(c, []model.Name{"s0.example.com."})["s0.example.com."]; pushedUp(s, "e0") {
		t.Error("e0 compiled up from the checker; want down from Options.Health")
	}
	if st, ok := c.Status("s0.example.com.", "e0"); !ok || st.View != "2 of 3 nodes see it down (b, c)" {
		t.Errorf("Status = %+v, %v; want Options.Health's", st, ok)
	}
}
