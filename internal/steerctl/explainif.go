package steerctl

import (
	"net/netip"
	"slices"
	"sort"

	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/steer"
)

// ExplainIf explains the answer as Explain does, with the hypothesis's
// pools and endpoints forced down in a private copy of the service.
func (c *Controller) ExplainIf(name model.Name, qtype uint16, client netip.Addr, subnet netip.Prefix, h steer.Hypothesis) (*steer.Explanation, bool) {
	c.mu.Lock()
	spec := c.services[name]
	if spec == nil {
		c.mu.Unlock()
		return nil, false
	}
	now := c.opts.Now()
	down := &model.Override{State: "down", Actor: "dry run", Time: now}
	cp := *spec
	cp.Pools = slices.Clone(spec.Pools)
	for i := range cp.Pools {
		if slices.Contains(h.DownPools, cp.Pools[i].Name) {
			cp.Pools[i].Override = down
		}
	}
	eps := make([]*model.Endpoint, 0, len(c.endpoints[name]))
	for _, e := range c.endpoints[name] {
		if slices.Contains(h.DownEndpoints, e.ID) {
			ec := *e
			ec.Override = down
			e = &ec
		}
		eps = append(eps, e)
	}
	sort.Slice(eps, func(i, j int) bool { return eps[i].ID < eps[j].ID })
	in := steer.Inputs{Now: now, Flat: c.flatLookup, Parse: c.parse}
	if c.checker != nil {
		in.Health = c.health
	}
	s, err := steer.Compile(&cp, eps, in)
	c.mu.Unlock()
	if err != nil {
		return nil, false
	}
	return steer.NewSnapshot([]*steer.Service{s}, c.opts.Locator, c.opts.Latency).Explain(string(name.Wire()), qtype, client, subnet)
}
