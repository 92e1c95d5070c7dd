package steerctl

import (
	"context"
	"net/netip"
	"slices"
	"time"

	"github.com/stratusdns/stratus/internal/model"
)

// flatLookup returns the resolved addresses of a hostname (steer.Inputs).
// Called with c.mu held.
func (c *Controller) flatLookup(host model.Name) ([]netip.Addr, []netip.Addr) {
	f := c.flat[host]
	return f.v4, f.v6
}

// flatten resolves the hostnames of flattened services that are due,
// outside the lock, and recompiles when an answer changed.
func (c *Controller) flatten(ctx context.Context) {
	now := c.opts.Now()
	c.mu.Lock()
	var due []model.Name
	seen := map[model.Name]bool{}
	for name, spec := range c.services {
		if !spec.Flatten {
			continue
		}
		for _, e := range c.endpoints[name] {
			t, err := model.ParseTarget(e.Address)
			if err != nil || t.Host == "" || seen[t.Host] {
				continue
			}
			seen[t.Host] = true
			if f, ok := c.flat[t.Host]; !ok || now.Sub(f.at) >= c.opts.FlattenRefresh {
				due = append(due, t.Host)
			}
		}
	}
	for h := range c.flat {
		if !seen[h] {
			delete(c.flat, h)
		}
	}
	c.mu.Unlock()

	changed := false
	for _, h := range due {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		addrs, err := c.opts.Resolver.LookupNetIP(rctx, "ip", string(h))
		cancel()
		var f flatAddrs
		f.at = now
		if err != nil {
			c.log.Warn("cannot resolve a flattened hostname", "host", h, "err", err)
		}
		for _, a := range addrs {
			a = a.Unmap()
			if a.Is4() {
				f.v4 = append(f.v4, a)
			} else {
				f.v6 = append(f.v6, a)
			}
		}
		slices.SortFunc(f.v4, func(a, b netip.Addr) int { return a.Compare(b) })
		slices.SortFunc(f.v6, func(a, b netip.Addr) int { return a.Compare(b) })
		c.mu.Lock()
		old, had := c.flat[h]
		if err != nil && had {
			f.v4, f.v6 = old.v4, old.v6 // keep serving the last good answer
		}
		c.flat[h] = f
		if !had || !slices.Equal(old.v4, f.v4) || !slices.Equal(old.v6, f.v6) {
			changed = true
		}
		c.mu.Unlock()
	}
	if changed {
		c.HealthChanged()
	}
}
