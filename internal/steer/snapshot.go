package steer

import (
	"github.com/stratusdns/stratus/internal/dnsconst"
	"github.com/stratusdns/stratus/internal/geo"
	"github.com/stratusdns/stratus/internal/zone"
)

// Snapshot is every compiled service at one moment, with the tables that
// locate clients. It is immutable and implements zone.Steering.
type Snapshot struct {
	services map[string]*CompiledService // by lowercase wire owner
	locator  geo.Locator
	latency  LatencyTable
}

// NewSnapshot returns a snapshot of services.
func NewSnapshot(services []*CompiledService, locator geo.Locator, latency LatencyTable) *Snapshot {
	m := make(map[string]*CompiledService, len(services))
	for _, s := range services {
		m[s.Owner] = s
	}
	return &Snapshot{services: m, locator: locator, latency: latency}
}

// Service returns the compiled service with the lowercase wire owner.
func (s *Snapshot) Service(owner string) *CompiledService { return s.services[owner] }

// Len returns the number of services.
func (s *Snapshot) Len() int { return len(s.services) }

var _ zone.Steering = (*Snapshot)(nil)

// Steer answers one query for a steered name (zone.Steering). It runs on
// the query path: no locks, no allocation.
func (s *Snapshot) Steer(owner string, qtype uint16, c *zone.Client) (*zone.RRset, int) {
	svc := s.services[owner]
	if svc == nil {
		return nil, zone.NotSteered
	}
	if f := svc.fixed; f != nil {
		svc.count(c, f.id)
		switch qtype {
		case dnsconst.TypeA:
			return f.a, f.rcode
		case dnsconst.TypeAAAA:
			return f.aaaa, f.rcode
		case dnsconst.TypeANY:
			return f.any, f.rcode
		}
		return f.cname, f.rcode
	}
	ctx := Context{Client: c, locator: s.locator, latency: s.latency}
	o, buf := svc.evaluate(&ctx, c.Indexes)
	c.Indexes = buf[:0]
	if svc.meter != nil {
		svc.count(c, svc.answerID(&o))
	}
	if o.rcode != dnsconst.RcodeSuccess {
		return nil, o.rcode
	}
	set := c.Scratch()
	if set == nil {
		return nil, dnsconst.RcodeServFail
	}
	return svc.answer(&o, qtype, set), dnsconst.RcodeSuccess
}
