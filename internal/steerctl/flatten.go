package steerctl

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/telemetry"
)

// Flattening limits.
const (
	// flattenWorkers bounds the hostnames resolved at once.
	flattenWorkers = 16
	// flattenRetry is how soon a hostname whose lookup failed is tried
	// again (at most; never later than the refresh interval).
	flattenRetry = 5 * time.Second
	// flattenTimeout bounds one lookup.
	flattenTimeout = 5 * time.Second
)

// flatAddrs is what a flattened hostname resolved to, and when to resolve
// it again.
type flatAddrs struct {
	v4, v6 []netip.Addr
	next   time.Time
}

// flatLookup returns the resolved addresses of a hostname (steer.Inputs).
// Called with c.mu held.
func (c *Controller) flatLookup(host model.Name) ([]netip.Addr, []netip.Addr) {
	f := c.flat[host]
	return f.v4, f.v6
}

// flattenLoop resolves flattened hostnames as they fall due (checking
// every second) and when the services change, until ctx is done.
func (c *Controller) flattenLoop(ctx context.Context) {
	tick := c.clk.NewTimer(time.Second)
	defer tick.Stop()
	for {
		c.flatten(ctx)
		tick.Reset(time.Second)
		select {
		case <-ctx.Done():
			return
		case <-tick.C():
		case <-c.kick:
		}
	}
}

// kickFlattener wakes the flattening loop.
func (c *Controller) kickFlattener() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// flatten resolves the hostnames of flattened services that are due,
// outside the lock and a few at a time, and recompiles the services of
// those whose addresses changed.
func (c *Controller) flatten(ctx context.Context) {
	due := c.flattenDue()
	if len(due) == 0 {
		return
	}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		changed = map[model.Name]bool{}
		sem     = make(chan struct{}, flattenWorkers)
	)
	for _, h := range due {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			defer telemetry.Recover(c.log, "steering")
			if c.resolveFlat(ctx, h) {
				mu.Lock()
				changed[h] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(changed) > 0 {
		c.flatChanged(changed)
	}
}

// flatChanged recompiles the flattened services with an endpoint whose
// hostname is in hosts.
func (c *Controller) flatChanged(hosts map[model.Name]bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	var names []model.Name
	for name, spec := range c.services {
		if !spec.Flatten {
			continue
		}
		for _, e := range c.endpoints[name] {
			if t, err := c.parse(e.Address); err == nil && hosts[t.Host] {
				names = append(names, name)
				break
			}
		}
	}
	if len(names) > 0 {
		c.rebuild(names)
	}
}

// flattenDue returns the hostnames due for resolving, and forgets those no
// flattened service uses any more.
func (c *Controller) flattenDue() []model.Name {
	now := c.clk.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	var due []model.Name
	seen := map[model.Name]bool{}
	for name, spec := range c.services {
		if !spec.Flatten {
			continue
		}
		for _, e := range c.endpoints[name] {
			t, err := c.parse(e.Address)
			if err != nil || t.Host == "" || seen[t.Host] {
				continue
			}
			seen[t.Host] = true
			if f, ok := c.flat[t.Host]; !ok || !now.Before(f.next) {
				due = append(due, t.Host)
			}
		}
	}
	for h := range c.flat {
		if !seen[h] {
			delete(c.flat, h)
		}
	}
	return due
}

// resolveFlat resolves one hostname and reports whether its addresses
// changed. A name that does not exist resolves to nothing; any other
// failure keeps the last good answer and is retried soon.
func (c *Controller) resolveFlat(ctx context.Context, h model.Name) bool {
	rctx, cancel := context.WithTimeout(ctx, flattenTimeout)
	addrs, err := c.opts.Resolver.LookupNetIP(rctx, "ip", string(h))
	cancel()
	now := c.clk.Now()
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
		err, addrs = nil, nil
	}
	f := flatAddrs{next: now.Add(c.opts.FlattenRefresh)}
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
	f.v4, f.v6 = slices.Compact(f.v4), slices.Compact(f.v6)
	c.mu.Lock()
	defer c.mu.Unlock()
	old, had := c.flat[h]
	if err != nil {
		if ctx.Err() != nil {
			return false
		}
		c.log.Warn("cannot resolve a flattened hostname", "host", h, "err", err)
		f.v4, f.v6 = old.v4, old.v6 // keep serving the last good answer
		f.next = now.Add(min(flattenRetry, c.opts.FlattenRefresh))
	}
	c.flat[h] = f
	return !had || !slices.Equal(old.v4, f.v4) || !slices.Equal(old.v6, f.v6)
}
