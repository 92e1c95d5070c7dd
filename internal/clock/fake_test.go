package clock

import (
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var epoch = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func received(c <-chan time.Time) (time.Time, bool) {
	select {
	case t := <-c:
		return t, true
	default:
		return time.Time{}, false
	}
}

func TestFakeTimerFiresOnlyWhenStepped(t *testing.T) {
	f := NewFake(epoch)
	tm := f.NewTimer(time.Second)
	f.Step(999 * time.Millisecond)
	if _, ok := received(tm.C()); ok {
		t.Fatal("fired before its deadline")
	}
	if got := f.ArmedAt(epoch.Add(time.Second)); got != 1 {
		t.Fatalf("ArmedAt(deadline) = %d, want 1", got)
	}
	f.Step(time.Millisecond)
	got, ok := received(tm.C())
	if !ok || !got.Equal(epoch.Add(time.Second)) {
		t.Fatalf("after the deadline: %v %v, want %v", got, ok, epoch.Add(time.Second))
	}
	if f.Armed() != 0 {
		t.Fatalf("Armed() = %d after firing, want 0", f.Armed())
	}
}

func TestFakeResetAndStopLeaveNoStaleValue(t *testing.T) {
	f := NewFake(epoch)
	tm := f.NewTimer(time.Second)
	f.Step(time.Second) // fired, value waiting in C
	if was := tm.Reset(time.Second); was {
		t.Error("Reset of a fired timer reported it armed")
	}
	if _, ok := received(tm.C()); ok {
		t.Fatal("stale value after Reset")
	}
	f.Step(time.Second)
	if was := tm.Stop(); was {
		t.Error("Stop of a fired timer reported it armed")
	}
	if _, ok := received(tm.C()); ok {
		t.Fatal("stale value after Stop")
	}
	tm.Reset(time.Second)
	if was := tm.Stop(); !was {
		t.Error("Stop of an armed timer reported it not armed")
	}
	f.Step(time.Hour)
	if _, ok := received(tm.C()); ok {
		t.Fatal("a stopped timer fired")
	}
}

func TestFakeAfterFuncAndNext(t *testing.T) {
	f := NewFake(epoch)
	var calls atomic.Int32
	done := make(chan struct{}, 2)
	f.AfterFunc(2*time.Second, func() { calls.Add(1); done <- struct{}{} })
	f.AfterFunc(time.Second, func() { calls.Add(1); done <- struct{}{} })
	if next, ok := f.Next(); !ok || !next.Equal(epoch.Add(time.Second)) {
		t.Fatalf("Next() = %v %v", next, ok)
	}
	if !f.StepToNext() {
		t.Fatal("StepToNext found nothing armed")
	}
	<-done
	if got := f.Now(); !got.Equal(epoch.Add(time.Second)) {
		t.Fatalf("Now() = %v after StepToNext", got)
	}
	if calls.Load() != 1 {
		t.Fatalf("%d calls after the first deadline, want 1", calls.Load())
	}
	f.Step(time.Second)
	<-done
	if f.StepToNext() {
		t.Fatal("StepToNext with nothing armed moved the clock")
	}
	if f.Arms() != 2 {
		t.Fatalf("Arms() = %d, want 2", f.Arms())
	}
}

func TestFakeZeroDurationFiresAtOnce(t *testing.T) {
	f := NewFake(epoch)
	tm := f.NewTimer(0)
	if _, ok := received(tm.C()); !ok {
		t.Fatal("a zero-duration timer did not fire at once")
	}
}

func TestRealClock(t *testing.T) {
	c := Real()
	tm := c.NewTimer(time.Millisecond)
	<-tm.C()
	done := make(chan struct{})
	c.AfterFunc(time.Millisecond, func() { close(done) })
	<-done
	if Since(c, time.Now().Add(-time.Hour)) < time.Hour {
		t.Fatal("Since is short")
	}
}
