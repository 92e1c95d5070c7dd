package zone

import "net/netip"

// Steering answers steered names: names whose A, AAAA and CNAME records are
// chosen per query (internal/steer implements it). Steer is called on the
// query path: it must not block, lock or allocate.
type Steering interface {
	// Steer returns the answer for the steered name owner (lowercase
	// wire format) and qtype (A, AAAA, CNAME, or ANY: one RRset, as RFC
	// 8482 allows) for client c: an RRset of A, AAAA or CNAME records (nil
	// for NODATA), SERVFAIL, or NotSteered when it knows no service
	// at owner. The RRset may be one of c's scratch sets.
	Steer(owner string, qtype uint16, c *Client) (set *RRset, rcode int)
}

// NotSteered is the rcode Steer returns for a name it does not steer.
const NotSteered = -1

// Request carries what a lookup needs besides the question when steered
// names are involved: who asked, and the steering state to answer from.
type Request struct {
	Client   Client
	Steering Steering
}

// Client is who asked, as far as steering needs to know. One Client per
// worker is reused across queries.
type Client struct {
	// Addr is the address the query came from (the resolver).
	Addr netip.Addr
	// ECS holds an EDNS Client Subnet option (RFC 7871) when HasECS:
	// the client's network, masked to ECSSource bits.
	HasECS    bool
	ECSAddr   netip.Addr
	ECSSource uint8

	// Scope is set by steering: the ECS scope prefix length to return
	// (0 when the answer did not depend on the client's location).
	Scope uint8

	// Indexes is scratch space for steering, reused across queries.
	Indexes []int32
	// Meter is steering's counting state for this worker (set by
	// steering at the worker's first counted answer).
	Meter any

	rng   uint64
	sets  [maxChain]RRset
	nsets int
}

// Begin prepares the client for a new lookup: no scope, no scratch sets in
// use. LookupFor calls it.
func (c *Client) Begin() {
	c.Scope = 0
	c.nsets = 0
}

// Scratch returns an empty RRset owned by the client for the current
// lookup, or nil when a lookup has used them all (a long chain of
// steered names).
func (c *Client) Scratch() *RRset {
	if c.nsets == len(c.sets) {
		return nil
	}
	s := &c.sets[c.nsets]
	c.nsets++
	s.Rdata = s.Rdata[:0]
	return s
}

// Rand returns a pseudo-random number (splitmix64); each worker's Client
// has its own sequence, so nothing is shared between goroutines.
func (c *Client) Rand() uint64 {
	c.rng += 0x9e3779b97f4a7c15
	z := c.rng
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Seed sets the client's random sequence.
func (c *Client) Seed(s uint64) { c.rng = s }

// Location returns the address steering should locate: the ECS network
// when the resolver sent one with a non-zero prefix, else the resolver.
func (c *Client) Location() netip.Addr {
	if c.HasECS && c.ECSSource > 0 {
		return c.ECSAddr
	}
	return c.Addr
}
