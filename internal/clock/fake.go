package clock

import (
	"sort"
	"sync"
	"time"
)

// Fake is a Clock that moves only when Step or Set moves it. Timers due
// by then fire in the order of their deadlines: a channel timer gets the
// time on its channel (buffered, never blocking), an AfterFunc timer runs
// its function in a goroutine of its own, as with the real clock.
type Fake struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
	arms   int // timers armed so far, counting every Reset
}

// NewFake returns a fake clock showing start.
func NewFake(start time.Time) *Fake { return &Fake{now: start} }

// Now returns the clock's time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// NewTimer returns a timer firing once the clock reaches now+d.
func (f *Fake) NewTimer(d time.Duration) Timer {
	return f.newTimer(d, make(chan time.Time, 1), nil)
}

// AfterFunc returns a timer calling fn in its own goroutine once the clock
// reaches now+d.
func (f *Fake) AfterFunc(d time.Duration, fn func()) Timer {
	return f.newTimer(d, nil, fn)
}

func (f *Fake) newTimer(d time.Duration, c chan time.Time, fn func()) Timer {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := &fakeTimer{f: f, c: c, fn: fn}
	f.timers = append(f.timers, t)
	t.resetLocked(d)
	return t
}

// Step moves the clock forward by d and fires every timer due by then.
func (f *Fake) Step(d time.Duration) { f.Set(f.Now().Add(d)) }

// Set moves the clock to t (never backwards) and fires every timer due by
// then, earliest first.
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t.After(f.now) {
		f.now = t
	}
	due := []*fakeTimer{}
	for _, tm := range f.timers {
		if tm.armed && !tm.when.After(f.now) {
			due = append(due, tm)
		}
	}
	sort.SliceStable(due, func(i, j int) bool { return due[i].when.Before(due[j].when) })
	for _, tm := range due {
		tm.fireLocked()
	}
}

// StepToNext moves the clock to the earliest armed timer's deadline and
// fires the timers due then. It reports false, and does nothing, when no
// timer is armed.
func (f *Fake) StepToNext() bool {
	next, ok := f.Next()
	if ok {
		f.Set(next)
	}
	return ok
}

// Next returns the earliest deadline of an armed timer.
func (f *Fake) Next() (time.Time, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var next time.Time
	ok := false
	for _, tm := range f.timers {
		if tm.armed && (!ok || tm.when.Before(next)) {
			next, ok = tm.when, true
		}
	}
	return next, ok
}

// Armed returns how many timers are armed.
func (f *Fake) Armed() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, tm := range f.timers {
		if tm.armed {
			n++
		}
	}
	return n
}

// ArmedAt returns how many timers are armed to fire at when.
func (f *Fake) ArmedAt(when time.Time) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, tm := range f.timers {
		if tm.armed && tm.when.Equal(when) {
			n++
		}
	}
	return n
}

// Arms returns how many times a timer was armed so far (created or
// Reset). A goroutine that arms its timer again is done with what woke
// it: a test waits for the count to move before it steps again.
func (f *Fake) Arms() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.arms
}

type fakeTimer struct {
	f     *Fake
	c     chan time.Time
	fn    func()
	when  time.Time
	armed bool
}

func (t *fakeTimer) C() <-chan time.Time {
	if t.c == nil {
		return nil
	}
	return t.c
}

func (t *fakeTimer) Reset(d time.Duration) bool {
	t.f.mu.Lock()
	defer t.f.mu.Unlock()
	was := t.armed
	t.resetLocked(d)
	return was
}

func (t *fakeTimer) Stop() bool {
	t.f.mu.Lock()
	defer t.f.mu.Unlock()
	was := t.armed
	t.armed = false
	t.drainLocked()
	return was
}

func (t *fakeTimer) resetLocked(d time.Duration) {
	t.drainLocked()
	t.when, t.armed = t.f.now.Add(d), true
	t.f.arms++
	if d <= 0 {
		t.fireLocked()
	}
}

func (t *fakeTimer) fireLocked() {
	t.armed = false
	if t.fn != nil {
		go t.fn()
		return
	}
	select {
	case t.c <- t.f.now:
	default:
	}
}

func (t *fakeTimer) drainLocked() {
	if t.c == nil {
		return
	}
	select {
	case <-t.c:
	default:
	}
}
