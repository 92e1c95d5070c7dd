package steer

import (
	"github.com/stratusdns/stratus/internal/dnsconst"
	"github.com/stratusdns/stratus/internal/zone"
)

// Materialized is a service's answer for a client with no location, as a
// secondary that cannot steer serves it. At most one of CNAME and the
// address lists is set; none is set when the service answers nothing (its
// when_all_down is nodata or servfail, or it has no endpoints).
type Materialized struct {
	A, AAAA [][]byte // A and AAAA RDATA
	CNAME   []byte   // wire-format target
	TTL     uint32
}

// materialChain keeps the filters that do not depend on the client or on
// chance: what every client could be given.
var materialChain = map[filterKind]bool{fJurisdiction: true, fHealth: true, fPriority: true}

// Materialize returns the answer a secondary serves for the service: every
// endpoint the chain's jurisdiction, health and priority steps keep (all
// healthy endpoints of the winning tier), or the when_all_down answer when
// none is; geo, latency, weights, shuffling and first_n need the client,
// so they do not apply.
func (s *CompiledService) Materialize() Materialized {
	m := *s
	m.Chain = nil
	for _, f := range s.Chain {
		if materialChain[f.kind] {
			m.Chain = append(m.Chain, f)
		}
	}
	ctx := &Context{Client: &zone.Client{}}
	o, _ := m.evaluate(ctx, nil)
	var out Materialized
	if o.rcode != 0 {
		return out
	}
	var set zone.RRset
	if a := m.answer(&o, dnsconst.TypeA, &set); a != nil {
		out.TTL = a.TTL
		if a.Type == dnsconst.TypeCNAME {
			out.CNAME = a.Rdata[0]
			return out
		}
		out.A = a.Rdata
	}
	set = zone.RRset{}
	if aaaa := m.answer(&o, dnsconst.TypeAAAA, &set); aaaa != nil && aaaa.Type == dnsconst.TypeAAAA {
		out.TTL = aaaa.TTL
		out.AAAA = aaaa.Rdata
	}
	return out
}

// Services returns every compiled service.
func (s *Snapshot) Services() []*CompiledService {
	out := make([]*CompiledService, 0, len(s.services))
	for _, svc := range s.services {
		out = append(out, svc)
	}
	return out
}
