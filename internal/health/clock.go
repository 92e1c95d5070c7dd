package health

import (
	"math/rand/v2"
	"time"
)

// Two clocks are at work. Options.Now stamps what callers see (Status
// times, HeldUntil, event times) and spaces the successes counted toward
// Rise, so that they can be made deterministic;
// the real clock (time.Now, timers) drives scheduling, hold-down release
// and push expiry, which need timers that actually fire. The real clock
// is reached through Checker.sched, which tests replace with a clock they
// step.

// now returns the time callers see.
func (c *Checker) now() time.Time { return c.opts.Now() }

// realNow returns the time of the scheduling clock.
func (c *Checker) realNow() time.Time { return c.sched.Now() }

// untilReal returns how long until the real time deadline, at least 0.
func (c *Checker) untilReal(deadline time.Time) time.Duration {
	return max(deadline.Sub(c.sched.Now()), 0)
}

// firstDelay is the delay before a target's first probe: uniform in
// [0, interval), so that targets added together spread their probes.
func (c *Checker) firstDelay(interval time.Duration) time.Duration {
	if c.jitter != nil {
		return c.jitter(interval)
	}
	if interval <= 0 {
		return 0
	}
	return rand.N(interval)
}

// schedClock is the clock scheduling runs on: the time and timers.
type schedClock interface {
	Now() time.Time
	NewTimer(d time.Duration) schedTimer
}

// schedTimer is a timer of a schedClock, with the semantics of
// time.Timer: Reset and Stop leave no stale value in C.
type schedTimer interface {
	C() <-chan time.Time
	Reset(d time.Duration)
	Stop()
}

// realClock is the system's clock.
type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) NewTimer(d time.Duration) schedTimer { return realTimer{time.NewTimer(d)} }

type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time   { return r.t.C }
func (r realTimer) Reset(d time.Duration) { r.t.Reset(d) }
func (r realTimer) Stop()                 { r.t.Stop() }
