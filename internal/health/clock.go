package health

import (
	"math/rand/v2"
	"time"
)

// Two clocks are at work. Options.Now stamps what callers see (Status
// times, HeldUntil, event times) and spaces the successes counted toward
// Rise, so that they can be made deterministic;
// the real clock (time.Now, timers) drives scheduling, hold-down release
// and push expiry, which need timers that actually fire.

// now returns the time callers see.
func (c *Checker) now() time.Time { return c.opts.Now() }

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

// untilReal returns how long until the real time deadline, at least 0.
func untilReal(deadline time.Time) time.Duration {
	return max(time.Until(deadline), 0)
}
