package steerctl

import (
	"fmt"
	"sync"
	"time"

	"github.com/stratusdns/stratus/internal/alert"
	"github.com/stratusdns/stratus/internal/clock"
	"github.com/stratusdns/stratus/internal/health"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/steer"
)

// timers wakes the controller when a service's answers change by
// themselves: a lease lapses, an override ends, a cold-start wait ends.
// It keeps, per service, the next such moment, and one clock timer for
// the earliest of them; when it fires, the services due are recompiled,
// and only they. Guarded by Controller.mu, but for wait.
type timers struct {
	clk     clock.Clock
	fire    func(gen uint64)         // runs in a goroutine of its own
	due     map[model.Name]time.Time // per service, its next change
	timer   clock.Timer              // armed for at (nil: none)
	at      time.Time
	gen     uint64         // of the armed timer
	running sync.WaitGroup // timer callbacks armed or running
	stopped bool
	lapsed  map[string]bool // lease lapses already reported
}

func newTimers(clk clock.Clock, fire func(gen uint64)) timers {
	return timers{clk: clk, fire: fire, due: map[model.Name]time.Time{}, lapsed: map[string]bool{}}
}

// set records a service's next change (none for the zero time).
func (t *timers) set(name model.Name, when time.Time) {
	if when.IsZero() {
		delete(t.due, name)
	} else {
		t.due[name] = when
	}
}

// reset forgets every service's next change.
func (t *timers) reset() { t.due = map[model.Name]time.Time{} }

// take returns, and forgets, the services whose change came before now.
func (t *timers) take(now time.Time) []model.Name {
	var out []model.Name
	for n, when := range t.due {
		if when.Before(now) {
			out = append(out, n)
			delete(t.due, n)
		}
	}
	return out
}

// arm sets the timer a millisecond after the earliest change to come,
// unless it is set for then already.
func (t *timers) arm(now time.Time) {
	if t.stopped {
		return
	}
	var next time.Time
	for _, when := range t.due {
		if next.IsZero() || when.Before(next) {
			next = when
		}
	}
	if t.timer != nil && next.Equal(t.at) {
		return
	}
	t.disarm()
	if next.IsZero() {
		return
	}
	t.gen++
	gen := t.gen
	t.running.Add(1)
	t.at = next
	t.timer = t.clk.AfterFunc(next.Sub(now)+time.Millisecond, func() {
		defer t.running.Done()
		t.fire(gen)
	})
}

// disarm stops the timer.
func (t *timers) disarm() {
	if t.timer != nil && t.timer.Stop() {
		t.running.Done() // its callback will not run
	}
	t.timer, t.at = nil, time.Time{}
}

// fired reports whether gen is the armed timer's, which is then spent.
func (t *timers) fired(gen uint64) bool {
	if gen != t.gen || t.timer == nil {
		return false // stopped or replaced while its callback started
	}
	t.timer, t.at = nil, time.Time{}
	return true
}

// stop stops the timer for good.
func (t *timers) stop() {
	t.stopped = true
	t.disarm()
}

// wait returns once no timer callback is armed or running. Call without
// Controller.mu, after stop.
func (t *timers) wait() { t.running.Wait() }

// forgetLapse forgets that the lease of the endpoint keyed key lapsed.
func (t *timers) forgetLapse(key string) { delete(t.lapsed, key) }

// timerFired recompiles the services whose answers changed by themselves.
func (c *Controller) timerFired(gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || !c.timers.fired(gen) {
		return
	}
	now := c.clk.Now()
	if names := c.timers.take(now); len(names) > 0 {
		c.rebuild(names)
		return
	}
	c.timers.arm(now)
}

// schedule reports the lapsed leases of a service just compiled and
// records the next moment its answers change by themselves: a lease
// lapse, the end of an override or of a cold-start wait. before is the
// service as compiled until now, for the state a lapse ended. Call with
// c.mu held.
func (c *Controller) schedule(name model.Name, now time.Time, in steer.Inputs, before *steer.CompiledService) {
	spec := c.services[name]
	if spec == nil {
		c.timers.set(name, time.Time{})
		return
	}
	var next time.Time
	soonest := func(t time.Time) {
		if !t.IsZero() && t.After(now) && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	for i := range spec.Pools {
		if o := spec.Pools[i].Override; o != nil {
			soonest(o.Expires) // the answers change when it ends
		}
	}
	for _, e := range c.endpoints[name] {
		if e.Override != nil {
			soonest(e.Override.Expires)
		}
		if e.Leased() {
			key := steer.Key(name, e.ID)
			if e.Lapsed(now) && !c.timers.lapsed[key] {
				c.timers.lapsed[key] = true
				old, _ := verdict(before, name, key)
				c.recordLapse(key, e, old)
			}
			soonest(e.Expires)
		}
		if spec.ColdStart.Mode == model.ColdWait {
			added := e.Created
			if in.Health != nil {
				if st, ok := in.Health(steer.Key(name, e.ID)); ok {
					added = st.Added
				}
			}
			soonest(steer.ColdUntil(spec, added))
		}
	}
	c.timers.set(name, next)
}

// LapsedPending reports whether an endpoint whose lease lapsed is still
// in the store (the reaper has something to remove).
func (c *Controller) LapsedPending() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers.lapsed) > 0
}

// recordLapse logs a lease lapse: the endpoint leaves the answers (Down)
// from old, what answers made of it before.
func (c *Controller) recordLapse(key string, e *model.Endpoint, old health.State) {
	c.log.Info("endpoint lease lapsed", "service", e.Service, "endpoint", e.ID, "expired", e.Expires)
	c.metrics.lapsed.Inc()
	c.emit(alert.Event{Kind: alert.LeaseLapsed, Time: c.clk.Now(), Service: e.Service.String(), Pool: e.Pool, Endpoint: e.ID,
		Summary: fmt.Sprintf("%s: the lease of endpoint %s (pool %s) lapsed at %s", e.Service, e.ID, e.Pool, e.Expires.UTC().Format(time.RFC3339)),
		Details: map[string]string{"address": e.Address, "lease_ttl": e.LeaseTTL.String(), "expired": e.Expires.UTC().Format(time.RFC3339Nano)}})
	if c.checker != nil {
		c.checker.Record(health.Event{Key: key, Old: old, New: health.Down, Actor: "lease",
			Reason: "lease of " + e.LeaseTTL.String() + " lapsed at " + e.Expires.UTC().Format(time.RFC3339Nano)})
	}
}
