package steerctl

import (
	"sort"
	"time"

	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/steer"
)

// rebuildAll compiles every service and publishes the snapshot. Call with
// c.mu held.
func (c *Controller) rebuildAll() {
	names := make([]model.Name, 0, len(c.services))
	for n := range c.services {
		names = append(names, n)
	}
	c.rebuild(names)
}

// rebuild compiles the named services, publishes the snapshot with them
// and every other service as compiled before, and sets the timers for the
// next moment the named services change by themselves. Call with c.mu
// held.
func (c *Controller) rebuild(names []model.Name) {
	now := c.clk.Now()
	in := c.inputs(now)
	prev := make(map[model.Name]*steer.CompiledService, len(names))
	for _, name := range names {
		prev[name] = c.compiled[name]
		spec := c.services[name]
		if spec == nil {
			delete(c.compiled, name)
			continue
		}
		s, err := c.compile(spec, c.sortedEndpoints(name), in)
		c.metrics.recompiles.Inc()
		if err != nil {
			c.log.Error("cannot compile service", "service", name, "err", err)
			delete(c.compiled, name)
			continue
		}
		c.compiled[name] = s
	}
	c.publish()
	for _, name := range names {
		c.schedule(name, now, in, prev[name])
	}
	for _, name := range names {
		c.watch(name, c.compiled[name], now)
	}
	c.timers.arm(now)
}

// publish swaps in a snapshot of the services as compiled, and wakes
// those waiting for it (changes). Call with c.mu held.
func (c *Controller) publish() {
	defer c.traceSwap()()
	all := make([]*steer.CompiledService, 0, len(c.compiled))
	for _, s := range c.compiled {
		all = append(all, s)
	}
	c.cur.Store(steer.NewSnapshot(all, c.opts.Locator, c.opts.Latency))
	close(c.changed)
	c.changed = make(chan struct{})
}

// changes returns a channel closed at the next new steering snapshot.
func (c *Controller) changes() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.changed
}

// inputs is what compiling a service reads besides its definition and
// endpoints. Call with c.mu held.
func (c *Controller) inputs(now time.Time) steer.Inputs {
	in := steer.Inputs{Now: now, Flat: c.flatLookup, Parse: c.parse, Meter: c.meter}
	if c.health != nil {
		in.Health = c.healthOf
	}
	return in
}

// sortedEndpoints returns a service's endpoints ordered by ID, as
// compiling takes them. Call with c.mu held.
func (c *Controller) sortedEndpoints(name model.Name) []*model.Endpoint {
	eps := make([]*model.Endpoint, 0, len(c.endpoints[name]))
	for _, e := range c.endpoints[name] {
		eps = append(eps, e)
	}
	sort.Slice(eps, func(i, j int) bool { return eps[i].ID < eps[j].ID })
	return eps
}

// parse parses endpoint addresses through a cache (steer.Inputs.Parse).
// Call with c.mu held.
func (c *Controller) parse(addr string) (steer.Target, error) {
	if t, ok := c.parsed[addr]; ok {
		return t, nil
	}
	t, err := steer.ParseTarget(addr)
	if err != nil {
		return t, err
	}
	if len(c.parsed) > 1<<20 {
		c.parsed = map[string]steer.Target{} // bound the cache
	}
	c.parsed[addr] = t
	return t, nil
}
