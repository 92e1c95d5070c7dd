package health

import (
	"math/rand/v2"
	"time"
)

// The checker runs on one clock, Options.Clock: it stamps what callers
// see (Status times, HeldUntil, event times), spaces the successes
// counted toward Rise, and drives scheduling, hold-down release and push
// expiry with its timers. Tests give it a clock.Fake and step it. Only
// the probes' round-trip times are measured on the system's clock, since
// they measure the network.

// now returns the time on the checker's clock.
func (c *Checker) now() time.Time { return c.opts.Clock.Now() }

// until returns how long until deadline on the clock, at least 0.
func (c *Checker) until(deadline time.Time) time.Duration {
	return max(deadline.Sub(c.opts.Clock.Now()), 0)
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
