package steer

import (
	"net/netip"

	"github.com/stratusdns/stratus/internal/geo"
	"github.com/stratusdns/stratus/internal/zone"
)

// Context is one evaluation of a chain for one client.
type Context struct {
	Client  *zone.Client
	Explain *Explanation // nil on the query path

	locator geo.Locator
	latency LatencyTable
	loc     geo.Location
	located bool
	health  healthMode
	// healthDropped: the health filter removed an endpoint, so the
	// answer may be a failover.
	healthDropped bool
}

// healthMode is how the health filter counts health.
type healthMode uint8

const (
	healthCounts  healthMode = iota // endpoints that are down are removed
	healthIgnored                   // failing open: only drained endpoints are removed
	healthAbsent                    // what the policy would choose with everything up
)

// location locates the client once per evaluation.
func (c *Context) location() geo.Location {
	if !c.located {
		c.located = true
		if c.locator != nil {
			c.loc = c.locator.Locate(c.Client.Location())
		}
		if c.Explain != nil {
			c.Explain.Location = c.loc
		}
	}
	return c.loc
}

// useScope records that the answer depends on the client's network: the
// response's ECS scope is the length of the located network, the one
// around the subnet's address that the tables place alike. That is longer
// than the subnet the client sent when only part of the subnet is in that
// network (a table entry covers part of it, or one lies inside it): RFC
// 7871 section 7.2.1 lets the scope be longer than the source, and a
// resolver then keeps the answer for that exact subnet only (7.3.1). A
// scope cut to the source would claim the answer for addresses the tables
// place elsewhere.
func (c *Context) useScope(loc geo.Location) {
	cl := c.Client
	if !cl.HasECS || cl.ECSSource == 0 {
		return
	}
	scope := cl.ECSSource
	if loc.Prefix.IsValid() && loc.Prefix.Bits() >= 0 {
		scope = uint8(loc.Prefix.Bits())
	}
	cl.Scope = max(cl.Scope, scope)
}

// stickyBits are the prefix lengths a sticky choice is keyed on.
const (
	stickyBits4 = 24
	stickyBits6 = 56
)

// useStickyScope records that the answer depends on the client's /24
// (IPv6 /56): the scope is that, also when the client sent a shorter
// subnet, whose other /24s may be given other endpoints.
func (c *Context) useStickyScope() {
	cl := c.Client
	if !cl.HasECS || cl.ECSSource == 0 {
		return
	}
	bits := uint8(stickyBits4)
	if !cl.ECSAddr.Is4() {
		bits = stickyBits6
	}
	cl.Scope = max(cl.Scope, bits)
}

// subnetHash hashes the client's /24 (IPv4) or /56 (IPv6).
func subnetHash(ctx *Context) uint64 {
	a := ctx.Client.Location()
	var p netip.Prefix
	if a.Is4() {
		p, _ = a.Prefix(stickyBits4)
	} else {
		p, _ = a.Prefix(stickyBits6)
	}
	b := p.Addr().As16()
	return fnv64(b[:])
}

// fnv64 is FNV-1a.
func fnv64[T string | []byte](s T) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// drop records, when explaining, that a filter removed an endpoint.
func (c *Context) drop(s *CompiledService, i int32, reason string) {
	if c.Explain != nil {
		c.Explain.removed(s, i, reason)
	}
}
