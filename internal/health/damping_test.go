package health

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/model"
)

// TestDampingHold drives the state machine by hand: the third flap within
// the window (flaps 2) holds the target down; flaps during the hold extend
// it; the end of the hold restores the checked state.
func TestDampingHold(t *testing.T) {
	c, clock := newSteppedChecker(t, Options{})
	tg := newTarget(c, Target{Key: "k", Host: "127.0.0.1", Port: 1,
		Check:   spec(model.CheckHTTP, func(s *model.CheckSpec) { s.Rise, s.Fall = 1, 1 }),
		Damping: model.Damping{Flaps: 2, Window: model.Duration(time.Minute), HoldDown: model.Duration(time.Minute)},
	})
	for _, r := range []result{okResult, softResult, okResult, softResult} { // up (not a flap), 3 flaps
		tg.apply(r)
	}
	st := tg.status()
	if st.State != Down || !st.HeldUntil.Equal(epoch.Add(time.Minute)) {
		t.Fatalf("after 3 flaps: %+v, want held down until %v", st, epoch.Add(time.Minute))
	}
	tg.apply(okResult) // a flap during the hold: still down
	if st := tg.status(); st.State != Down || st.HeldUntil.IsZero() {
		t.Fatalf("a success during the hold: %+v, want still held down", st)
	}
	tg.expire(clock.Now()) // too early
	if st := tg.status(); st.State != Down {
		t.Fatalf("released early: %+v", st)
	}
	tg.expire(clock.Now().Add(2 * time.Minute))
	st = tg.status()
	if st.State != Up || !st.HeldUntil.IsZero() {
		t.Fatalf("after the hold: %+v, want up and not held", st)
	}
	want := []string{
		"unknown>up check: first check succeeded",
		"up>down check: 1 consecutive failure: status 503, want 2xx or 3xx",
		"down>up check: 1 consecutive success",
		"up>down check: 1 consecutive failure: status 503, want 2xx or 3xx",
		"down>down damping: flapping: 3 state changes within 1m0s (more than 2): held down for 1m0s",
		"down>up damping: hold-down ended",
	}
	if got := transitions(c.Events(0, 0)); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestDampingWindowAndOff(t *testing.T) {
	tests := []struct {
		name string
		d    model.Damping
		held bool
	}{
		{"off", model.Damping{}, false},
		{"flaps within the limit", model.Damping{Flaps: 4, Window: model.Duration(time.Minute), HoldDown: model.Duration(time.Minute)}, false},
		{"flaps over the limit", model.Damping{Flaps: 2, Window: model.Duration(time.Minute), HoldDown: model.Duration(time.Minute)}, true},
		{"flaps spread beyond the window", model.Damping{Flaps: 2, Window: model.Duration(time.Nanosecond), HoldDown: model.Duration(time.Minute)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, clock := newSteppedChecker(t, Options{})
			tg := newTarget(c, Target{Key: "k", Host: "127.0.0.1", Port: 1,
				Check: spec(model.CheckHTTP, func(s *model.CheckSpec) { s.Rise, s.Fall = 1, 1 }), Damping: tt.d})
			for _, r := range []result{okResult, softResult, okResult, softResult, okResult} {
				clock.Step(time.Millisecond)
				tg.apply(r)
			}
			st := tg.status()
			if held := !st.HeldUntil.IsZero(); held != tt.held {
				t.Fatalf("held = %v, want %v (%+v)", held, tt.held, st)
			}
			if want := map[bool]State{true: Down, false: Up}[tt.held]; st.State != want {
				t.Fatalf("state %v, want %v", st.State, want)
			}
		})
	}
}

// TestDampingRealTimers: a flapping push target is held down, with an
// event, and released by the checker's own timer after the hold-down.
func TestDampingRealTimers(t *testing.T) {
	const holdDown = 300 * time.Millisecond
	changes := make(chan struct{}, 100)
	c, clock := newSteppedChecker(t, Options{OnChange: func(context.Context, []string) { changes <- struct{}{} }})
	tg := pushTarget("p", time.Minute)
	tg.Damping = model.Damping{Flaps: 1, Window: model.Duration(time.Minute), HoldDown: model.Duration(holdDown)}
	c.SetTargets([]Target{tg})
	for _, up := range []bool{true, false, true} {
		if err := c.Push("p", up, ""); err != nil {
			t.Fatal(err)
		}
	}
	st, _ := c.Status("p")
	if st.State != Down || st.HeldUntil.IsZero() {
		t.Fatalf("after 2 flaps with flaps 1: %+v, want held down", st)
	}
	clock.waitArmed(t, clock.Now().Add(holdDown)) // the goroutine waits for the end of the hold
	clock.Step(holdDown - time.Millisecond)
	if st, _ := c.Status("p"); st.State != Down {
		t.Fatalf("%v a millisecond before the end of the hold-down, want down", st.State)
	}
	clock.Step(time.Millisecond)
	st = waitState(t, c, "p", Up)
	if !st.HeldUntil.IsZero() {
		t.Errorf("HeldUntil %v after release", st.HeldUntil)
	}
	evs := transitions(eventsOf(c, "p"))
	if len(evs) != 4 || !strings.HasPrefix(evs[2], "down>down damping: flapping: 2 state changes within 1m0s (more than 1)") || evs[3] != "down>up damping: hold-down ended" {
		t.Errorf("events %q", evs)
	}
	waitFor(t, "OnChange for the release", func() bool { return len(changes) > 0 })
}

// TestDampingChangeKeepsState: changing only the damping of a target keeps
// its state and goroutine.
func TestDampingChangeKeepsState(t *testing.T) {
	c := newChecker(t, Options{})
	tg := pushTarget("p", time.Minute)
	c.SetTargets([]Target{tg})
	if err := c.Push("p", true, ""); err != nil {
		t.Fatal(err)
	}
	before, _ := c.Status("p")
	tg.Damping = model.Damping{Flaps: 1, Window: model.Duration(time.Minute), HoldDown: model.Duration(time.Minute)}
	c.SetTargets([]Target{tg})
	after, _ := c.Status("p")
	if after != before {
		t.Fatalf("status changed with damping: %+v, was %+v", after, before)
	}
	c.Push("p", false, "")
	c.Push("p", true, "")
	if st, _ := c.Status("p"); st.HeldUntil.IsZero() {
		t.Fatalf("new damping not applied: %+v", st)
	}
	tg.Damping = model.Damping{} // off: the hold ends
	c.SetTargets([]Target{tg})
	waitState(t, c, "p", Up)
}
