package health

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/clock"
	"github.com/stratusdns/stratus/internal/model"
)

// transitions renders events as "old>new reason" lines.
func transitions(evs []Event) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = fmt.Sprintf("%s>%s %s: %s", ev.Old, ev.New, ev.Actor, ev.Reason)
	}
	return out
}

func TestThresholds(t *testing.T) {
	ok, fail := okResult, softResult
	tests := []struct {
		name       string
		rise, fall int
		results    []result
		want       []string
		final      State
	}{
		{"first success decides", 3, 3, []result{ok}, []string{"unknown>up check: first check succeeded"}, Up},
		{"first failure decides", 3, 3, []result{fail}, []string{"unknown>down check: first check failed: status 503, want 2xx or 3xx"}, Down},
		{"fall needs consecutive failures", 1, 2, []result{ok, fail, ok, fail, ok}, []string{"unknown>up check: first check succeeded"}, Up},
		{"fall reached", 1, 2, []result{ok, fail, fail}, []string{
			"unknown>up check: first check succeeded",
			"up>down check: 2 consecutive failures: status 503, want 2xx or 3xx",
		}, Down},
		{"rise needs consecutive successes", 3, 1, []result{fail, ok, ok, fail, ok, ok}, []string{"unknown>down check: first check failed: status 503, want 2xx or 3xx"}, Down},
		{"rise reached", 3, 1, []result{fail, ok, ok, ok}, []string{
			"unknown>down check: first check failed: status 503, want 2xx or 3xx",
			"down>up check: 3 consecutive successes",
		}, Up},
		{"rise and fall of one", 1, 1, []result{ok, fail, ok}, []string{
			"unknown>up check: first check succeeded",
			"up>down check: 1 consecutive failure: status 503, want 2xx or 3xx",
			"down>up check: 1 consecutive success",
		}, Up},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := clock.NewFake(epoch)
			c := newChecker(t, Options{Clock: clk})
			s := spec(model.CheckHTTP, func(s *model.CheckSpec) { s.Rise, s.Fall = tt.rise, tt.fall })
			tg := newTarget(c, Target{Key: "k", Host: "127.0.0.1", Port: 1, Check: s})
			for _, r := range tt.results {
				clk.Step(s.Interval.D()) // one result per interval, as scheduled
				tg.apply(r)
			}
			got := transitions(c.Events(0, 0))
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if st := tg.status(); st.State != tt.final {
				t.Errorf("state %v, want %v", st.State, tt.final)
			}
		})
	}
}

// TestRiseCountsChecksAtTheInterval: coming back up takes Rise successes
// an interval apart. Two successes 90 ms apart (a probe that hung while
// the endpoint was frozen, then the scheduled one) count once; a failure
// still breaks the run at once.
func TestRiseCountsChecksAtTheInterval(t *testing.T) {
	ok, fail := okResult, hardResult
	type step struct {
		at time.Duration // since the start, on the injected clock
		r  result
	}
	tests := []struct {
		name  string
		rise  int
		steps []step
		want  []string
		final State
	}{
		{"two successes 90ms apart count once", 2, []step{{0, fail}, {time.Second, ok}, {1090 * time.Millisecond, ok}},
			[]string{"unknown>down check: first check failed: connection refused"}, Down},
		{"half an interval is too soon", 2, []step{{0, fail}, {time.Second, ok}, {1500 * time.Millisecond, ok}},
			[]string{"unknown>down check: first check failed: connection refused"}, Down},
		{"an interval apart: up", 2, []step{{0, fail}, {time.Second, ok}, {1090 * time.Millisecond, ok}, {2 * time.Second, ok}}, []string{
			"unknown>down check: first check failed: connection refused",
			"down>up check: 2 consecutive successes",
		}, Up},
		{"a response a little quicker than the last still counts", 2, []step{{0, fail}, {time.Second, ok}, {1800 * time.Millisecond, ok}}, []string{
			"unknown>down check: first check failed: connection refused",
			"down>up check: 2 consecutive successes",
		}, Up},
		{"a failure in between starts over", 2, []step{{0, fail}, {time.Second, ok}, {1100 * time.Millisecond, fail}, {2 * time.Second, ok}},
			[]string{"unknown>down check: first check failed: connection refused"}, Down},
		{"rise 3 needs three checks", 3, []step{{0, fail}, {time.Second, ok}, {1010 * time.Millisecond, ok}, {2 * time.Second, ok}, {2010 * time.Millisecond, ok}, {3 * time.Second, ok}}, []string{
			"unknown>down check: first check failed: connection refused",
			"down>up check: 3 consecutive successes",
		}, Up},
		{"rise 1: the first success", 1, []step{{0, fail}, {10 * time.Millisecond, ok}}, []string{
			"unknown>down check: first check failed: connection refused",
			"down>up check: 1 consecutive success",
		}, Up},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := epoch
			clk := clock.NewFake(start)
			c := newChecker(t, Options{Clock: clk})
			tg := newTarget(c, Target{Key: "k", Host: "127.0.0.1", Port: 1, Check: spec(model.CheckHTTP, func(s *model.CheckSpec) {
				s.Interval, s.Rise, s.Fall = model.Duration(time.Second), tt.rise, 1
			})})
			for _, st := range tt.steps {
				clk.Set(start.Add(st.at))
				tg.apply(st.r)
			}
			got := transitions(c.Events(0, 0))
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if st := tg.status(); st.State != tt.final {
				t.Errorf("state %v, want %v", st.State, tt.final)
			}
		})
	}
}

func TestApplyAsksForConfirmation(t *testing.T) {
	tests := []struct {
		name      string
		before    []result
		restarted bool // the check changed after before
		r         result
		want      bool
		state     State
	}{
		{"hard failure of an up target", []result{okResult}, false, hardResult, true, Up},
		{"soft failure of an up target", []result{okResult}, false, softResult, false, Up},
		{"hard failure reaching fall", []result{okResult, hardResult}, false, hardResult, false, Down},
		{"hard failure of a down target", []result{hardResult}, false, hardResult, false, Down},
		{"hard failure as the first result", nil, false, hardResult, false, Down},
		{"success", []result{okResult}, false, okResult, false, Up},
		{"hard failure after a check change: confirmed", []result{okResult}, true, hardResult, true, Up},
		{"soft failure after a check change: decides", []result{okResult}, true, softResult, false, Down},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newChecker(t, Options{})
			tg := newTarget(c, Target{Key: "k", Host: "127.0.0.1", Port: 1, Check: spec(model.CheckHTTP, func(s *model.CheckSpec) { s.Fall = 2 })})
			for _, r := range tt.before {
				tg.apply(r)
			}
			if tt.restarted {
				tg.machineState.restart()
			}
			if got := tg.apply(tt.r); got != tt.want {
				t.Errorf("apply = %v, want %v", got, tt.want)
			}
			if st := tg.status(); st.State != tt.state {
				t.Errorf("state %v, want %v", st.State, tt.state)
			}
		})
	}
}

func TestStatusFields(t *testing.T) {
	clk := clock.NewFake(epoch)
	c := newChecker(t, Options{Clock: clk})
	tg := newTarget(c, Target{Key: "k", Host: "127.0.0.1", Port: 1, Check: spec(model.CheckHTTP, nil)})
	st := tg.status()
	if st.State != Unknown || !st.Added.Equal(epoch) || !st.Since.Equal(epoch) {
		t.Fatalf("initial status %+v", st)
	}
	clk.Step(time.Second)
	tg.apply(result{ok: true, rtt: 7 * time.Millisecond})
	st = tg.status()
	if st.State != Up || !st.Since.Equal(clk.Now()) || !st.LastCheck.Equal(clk.Now()) || !st.LastOK || st.RTT != 7*time.Millisecond || st.LastError != "" {
		t.Fatalf("after a success: %+v", st)
	}
	clk.Step(time.Second)
	tg.apply(hardResult)
	st = tg.status()
	if st.State != Up || st.LastOK || st.LastError != "connection refused" || st.RTT != 7*time.Millisecond || !st.Since.Equal(clk.Now().Add(-time.Second)) {
		t.Fatalf("after one failure: %+v", st)
	}
	if evs := c.Events(0, 0); len(evs) != 1 || !evs[0].Time.Equal(clk.Now().Add(-time.Second)) {
		t.Fatalf("events %+v", evs)
	}
}

// TestHardFailureConfirmedAtOnce: a hard failure is re-probed at once,
// until fall failures; a soft one waits for the interval. Scheduling runs
// on a clock that moves only when the test steps it, so probes at the same
// instant on it came at once, without waiting for a timer.
func TestHardFailureConfirmedAtOnce(t *testing.T) {
	const interval = 300 * time.Millisecond
	tests := []struct {
		name  string
		fail  result
		steps int // intervals from the first failure to the last (fall 3)
	}{
		{"hard", hardResult, 0},
		{"soft", softResult, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, clock := newSteppedChecker(t, Options{})
			start := clock.Now()
			f := &fakeProber{results: []result{okResult}, rest: tt.fail, now: clock.Now}
			useFakes(c, map[string]*fakeProber{"k": f})
			c.SetTargets([]Target{{Key: "k", Host: "127.0.0.1", Port: 1, Check: spec(model.CheckHTTP, func(s *model.CheckSpec) {
				s.Interval = model.Duration(interval)
				s.Fall = 3
			})}})
			clock.waitArmed(t, start.Add(interval)) // the first probe is done
			if st, _ := c.Status("k"); st.State != Up {
				t.Fatalf("after the first probe: %v, want up", st.State)
			}
			for i := 0; ; i++ {
				clock.Step(interval)
				clock.waitArmed(t, start.Add(time.Duration(i+2)*interval))
				if st, _ := c.Status("k"); st.State == Down {
					break
				}
				if i == tt.steps {
					t.Fatalf("still up %d intervals after the first failure, probes at %v", i, offsets(start, f.calls()))
				}
			}
			want := []time.Time{start}
			for i := range 3 {
				want = append(want, start.Add(time.Duration(1+min(i, tt.steps))*interval))
			}
			if got := f.calls(); !slices.Equal(got, want) {
				t.Errorf("probes at %v, want %v", offsets(start, got), offsets(start, want))
			}
			evs := transitions(eventsOf(c, "k"))
			want2 := "up>down check: 3 consecutive failures: " + tt.fail.err
			if len(evs) != 2 || evs[1] != want2 {
				t.Errorf("events %q, want the second to be %q", evs, want2)
			}
		})
	}
}

// offsets renders times as durations since start.
func offsets(start time.Time, ts []time.Time) []time.Duration {
	out := make([]time.Duration, len(ts))
	for i, x := range ts {
		out[i] = x.Sub(start)
	}
	return out
}

// TestLostProbeChangesNothing: one hard failure followed by a success (the
// confirming re-probe, at once) changes nothing with fall 2.
func TestLostProbeChangesNothing(t *testing.T) {
	const interval = 300 * time.Millisecond
	c, clock := newSteppedChecker(t, Options{})
	start := clock.Now()
	f := &fakeProber{results: []result{okResult, hardResult}, rest: okResult, now: clock.Now}
	useFakes(c, map[string]*fakeProber{"k": f})
	c.SetTargets([]Target{{Key: "k", Host: "127.0.0.1", Port: 1, Check: spec(model.CheckHTTP, func(s *model.CheckSpec) {
		s.Interval = model.Duration(interval)
	})}})
	clock.waitArmed(t, start.Add(interval))
	clock.Step(interval) // the hard failure, and its re-probe
	clock.waitArmed(t, start.Add(2*interval))
	want := []time.Time{start, start.Add(interval), start.Add(interval)}
	if got := f.calls(); !slices.Equal(got, want) {
		t.Errorf("probes at %v, want %v: the hard failure re-probed at once", offsets(start, got), offsets(start, want))
	}
	if evs := transitions(eventsOf(c, "k")); len(evs) != 1 {
		t.Errorf("events %q, want only the first up", evs)
	}
}
