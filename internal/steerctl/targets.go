package steerctl

import (
	"context"
	"net"
	"reflect"
	"slices"
	"strconv"

	"github.com/stratusdns/stratus/internal/health"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/steer"
)

// healthTargets is what the checker checks for each service, and the
// other way round: which services each target's health goes into. Guarded
// by Controller.mu; without a checker it holds nothing.
type healthTargets struct {
	checker   *health.Checker
	byService map[model.Name]map[string]health.Target
	owners    map[string][]model.Name // target key -> the services checking it
}

func newHealthTargets(checker *health.Checker) healthTargets {
	return healthTargets{checker: checker, byService: map[model.Name]map[string]health.Target{}, owners: map[string][]model.Name{}}
}

// reset makes all, by service, the checker's targets.
func (h *healthTargets) reset(all map[model.Name]map[string]health.Target) {
	if h.checker == nil {
		return
	}
	h.byService, h.owners = all, map[string][]model.Name{}
	var ts []health.Target
	for n, cur := range all {
		for k, t := range cur {
			h.owners[k] = append(h.owners[k], n)
			ts = append(ts, t)
		}
	}
	h.checker.SetTargets(ts)
}

// update makes next, by service, the targets of the services in it (a
// service with none has none), telling the checker only what changed.
func (h *healthTargets) update(next map[model.Name]map[string]health.Target) {
	if h.checker == nil {
		return
	}
	var set []health.Target
	var remove []string
	for n, cur := range next {
		old := h.byService[n]
		for k, t := range cur {
			o, had := old[k]
			if !had || !sameTarget(o, t) {
				set = append(set, t)
			}
			if !had {
				h.owners[k] = append(h.owners[k], n)
			}
		}
		for k := range old {
			if _, ok := cur[k]; !ok {
				if h.owners[k] = slices.DeleteFunc(h.owners[k], func(o model.Name) bool { return o == n }); len(h.owners[k]) == 0 {
					delete(h.owners, k)
					remove = append(remove, k)
				}
			}
		}
		if len(cur) == 0 {
			delete(h.byService, n)
		} else {
			h.byService[n] = cur
		}
	}
	if len(set)+len(remove) > 0 {
		h.checker.UpdateTargets(set, remove)
	}
}

// servicesOf returns the services that check any of keys, each once.
func (h *healthTargets) servicesOf(keys []string) []model.Name {
	var out []model.Name
	for _, k := range keys {
		for _, n := range h.owners[k] {
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	return out
}

// HealthChanged recompiles the services that check the targets keyed in
// keys, after the checker reports a change to them (health.Options.
// OnChange); other services keep what they compiled to.
func (c *Controller) HealthChanged(ctx context.Context, keys []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	if names := c.targets.servicesOf(keys); len(names) > 0 {
		ctx, span := traceRecompile(ctx, keys, names)
		defer span.End()
		if span.IsRecording() {
			c.trace.ctx = ctx
			defer func() { c.trace.ctx = nil }()
		}
		c.rebuild(names)
	}
}

// reconcileAll derives every service's health targets, gives them to the
// checker, wakes the flattener and recompiles everything. Call with c.mu
// held.
func (c *Controller) reconcileAll() {
	all := map[model.Name]map[string]health.Target{}
	for n := range c.services {
		if ts := c.serviceTargets(n); len(ts) > 0 {
			all[n] = ts
		}
	}
	c.targets.reset(all)
	c.kickFlattener()
	c.rebuildAll()
}

// reconcile does what reconcileAll does for the named services only.
// Call with c.mu held.
func (c *Controller) reconcile(names []model.Name) {
	if c.checker != nil {
		next := make(map[model.Name]map[string]health.Target, len(names))
		for _, n := range names {
			next[n] = c.serviceTargets(n)
		}
		c.targets.update(next)
	}
	c.kickFlattener()
	c.rebuild(names)
}

// serviceTargets derives the health targets of one service's endpoints.
// Call with c.mu held.
func (c *Controller) serviceTargets(name model.Name) map[string]health.Target {
	spec := c.services[name]
	if spec == nil {
		return nil
	}
	now := c.clk.Now()
	out := map[string]health.Target{}
	for _, e := range c.endpoints[name] {
		p := spec.Pool(e.Pool)
		if p == nil || p.Check.Type == model.CheckNone || e.Lapsed(now) {
			continue
		}
		t := c.target(spec, p, e)
		out[t.Key] = t
	}
	return out
}

// sameTarget reports whether two targets check the same way.
func sameTarget(a, b health.Target) bool {
	return a.Host == b.Host && a.Port == b.Port && a.ServerName == b.ServerName && a.Damping == b.Damping &&
		reflect.DeepEqual(a.Check, b.Check)
}

// target builds one endpoint's health target. Call with c.mu held.
func (c *Controller) target(s *model.Service, p *model.Pool, e *model.Endpoint) health.Target {
	t := health.Target{Key: steer.Key(s.Name, e.ID), Check: p.Check, Damping: s.Damping}
	host, port := e.Address, p.Check.Port
	if e.CheckTarget != "" {
		h, pt, err := net.SplitHostPort(e.CheckTarget)
		if err != nil {
			h = e.CheckTarget
		} else if n, err := strconv.Atoi(pt); err == nil {
			port = uint16(n)
		}
		host = h
	}
	if port == 0 {
		switch p.Check.Type {
		case model.CheckHTTP:
			port = 80
		case model.CheckHTTPS:
			port = 443
		case model.CheckDNS:
			port = 53
		}
	}
	t.Host, t.Port = host, port
	switch {
	case p.Check.Host != "":
		t.ServerName = p.Check.Host
	default:
		if tg, err := c.parse(e.Address); err == nil && tg.Host != "" {
			t.ServerName = string(tg.Host[:len(tg.Host)-1])
		}
	}
	return t
}

// healthOf translates a target's status (Options.Health) for steering.
func (c *Controller) healthOf(key string) (steer.Health, bool) {
	st, ok := c.health.Status(key)
	if !ok {
		return steer.Health{}, false
	}
	h := steer.Health{Added: st.Added, HeldUntil: st.HeldUntil, LastError: st.LastError, RTT: st.RTT}
	switch st.State {
	case health.Up:
		h.State = steer.Up
	case health.Down:
		h.State = steer.Down
	}
	return h, true
}
