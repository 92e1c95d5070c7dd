package steer

import (
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/zone"
)

// Record types steered answers use.
const (
	typeA     = 1
	typeCNAME = 5
	typeAAAA  = 28
	typeANY   = 255
)

// outcome is what a chain evaluation chose.
type outcome struct {
	sel    []int32    // indexes into eps
	eps    []Endpoint // s.Endpoints, or s.static for a static answer
	rcode  int
	reason string // how the all-down case was handled, for explanations
}

// evaluate runs the chain and, when it leaves nothing because everything
// is down, the service's when_all_down choice. buf is scratch space.
func (s *Service) evaluate(ctx *Context, buf []int32) (outcome, []int32) {
	c := candidates(s, buf)
	for _, f := range s.Chain {
		if ctx.Explain != nil {
			ctx.Explain.begin(f.String(), s, c)
		}
		c = f.apply(ctx, s, c)
		if ctx.Explain != nil {
			ctx.Explain.end(s, c)
		}
	}
	// Nothing left of some endpoints: nothing the service may answer is
	// up, and its when_all_down choice applies.
	if len(c) > 0 || len(s.Endpoints) == 0 {
		return outcome{sel: c, eps: s.Endpoints}, c
	}
	switch s.Spec.WhenAllDown.Mode {
	case model.AllDownFailOpen:
		// Every endpoint the chain would answer if health did not count.
		// The explanation already shows why each endpoint was dropped;
		// the re-run is summed up by the reason.
		ex := ctx.Explain
		ctx.ignoreHealth, ctx.Explain = true, nil
		c = candidates(s, c)
		for _, f := range s.Chain {
			c = f.apply(ctx, s, c)
		}
		ctx.Explain = ex
		return outcome{sel: c, eps: s.Endpoints, reason: "every endpoint is down: failing open (answering them regardless of health)"}, c
	case model.AllDownFallback:
		c = c[:0]
		for i := range s.Endpoints {
			// An endpoint an operator took out stays out.
			if e := &s.Endpoints[i]; e.Pool == s.fallback && !e.Drained {
				c = append(c, int32(i))
			}
		}
		if len(c) > s.Spec.MaxAnswers {
			c = c[:s.Spec.MaxAnswers]
		}
		return outcome{sel: c, eps: s.Endpoints, reason: s.fallbackReason}, c
	case model.AllDownStatic:
		c = c[:0]
		for i := range s.static {
			c = append(c, int32(i))
		}
		return outcome{sel: c, eps: s.static, reason: "every endpoint is down: answering the static fallback"}, c
	case model.AllDownServFail:
		return outcome{rcode: zone.RcodeServFail, reason: "every endpoint is down: answering SERVFAIL"}, c[:0]
	}
	return outcome{reason: "every endpoint is down: answering no records"}, c[:0]
}

// candidates fills buf with every endpoint index.
func candidates(s *Service, buf []int32) []int32 {
	c := buf[:0]
	for i := range s.Endpoints {
		c = append(c, int32(i))
	}
	return c
}

// answer builds the RRset of qtype from an outcome into set: the CNAME of
// the first chosen endpoint when it is a hostname (and the service does not
// flatten), else the chosen addresses of the family asked for.
func (s *Service) answer(o *outcome, qtype uint16, set *zone.RRset) *zone.RRset {
	if len(o.sel) == 0 {
		return nil
	}
	set.TTL = s.ttlFor(o)
	first := &o.eps[o.sel[0]]
	if first.IsHost() && !s.Spec.Flatten {
		set.Type = typeCNAME
		set.Rdata = append(set.Rdata, first.Host)
		return set
	}
	if qtype == typeCNAME {
		return nil
	}
	if qtype == typeANY {
		// RFC 8482: one RRset will do, A if there is one, else AAAA.
		if a := s.answer(o, typeA, set); a != nil {
			return a
		}
		return s.answer(o, typeAAAA, set)
	}
	set.Type = qtype
	for _, i := range o.sel {
		e := &o.eps[i]
		switch {
		case e.IsHost() && qtype == typeA:
			for _, rd := range e.Flat4 {
				set.Rdata = appendUnique(set.Rdata, rd)
			}
		case e.IsHost():
			for _, rd := range e.Flat6 {
				set.Rdata = appendUnique(set.Rdata, rd)
			}
		case qtype == typeA && e.Addr.Is4(), qtype == typeAAAA && e.Addr.Is6():
			set.Rdata = appendUnique(set.Rdata, e.rdata)
		}
	}
	if len(set.Rdata) == 0 {
		return nil
	}
	return set
}

func appendUnique(list [][]byte, rd []byte) [][]byte {
	for _, x := range list {
		if string(x) == string(rd) {
			return list
		}
	}
	return append(list, rd)
}

// ttlFor is the TTL of an answer: the degraded TTL when it comes from a
// degraded pool, from a worse tier than the best (a failover), or from the
// when_all_down choice, so that clients come back soon after a recovery.
func (s *Service) ttlFor(o *outcome) uint32 {
	if o.reason != "" {
		return s.Spec.DegradedTTL
	}
	for _, i := range o.sel {
		p := o.eps[i].Pool
		if p < 0 || s.Pools[p].Degraded || s.Pools[p].Spec.Priority > s.bestTier {
			return s.Spec.DegradedTTL
		}
	}
	return s.Spec.TTL
}
