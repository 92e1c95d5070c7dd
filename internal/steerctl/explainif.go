package steerctl

import (
	"net/netip"
	"slices"

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
	now := c.clk.Now()
	down := &model.Override{State: "down", Actor: "dry run", Time: now}
	cp := *spec
	cp.Pools = slices.Clone(spec.Pools)
	for i := range cp.Pools {
		if slices.Contains(h.DownPools, cp.Pools[i].Name) {
			cp.Pools[i].Override = down
		}
	}
	eps := c.sortedEndpoints(name)
	for i, e := range eps {
		if slices.Contains(h.DownEndpoints, e.ID) {
			ec := *e
			ec.Override = down
			eps[i] = &ec
		}
	}
	s, err := steer.Compile(&cp, eps, c.inputs(now))
	c.mu.Unlock()
	if err != nil {
		return nil, false
	}
	return steer.NewSnapshot([]*steer.CompiledService{s}, c.opts.Locator, c.opts.Latency).Explain(string(name.Wire()), qtype, client, subnet)
}
