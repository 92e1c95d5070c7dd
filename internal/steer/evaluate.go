package steer

import (
	"github.com/stratusdns/stratus/internal/dnsconst"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/zone"
)

// outcome is what a chain evaluation chose.
type outcome struct {
	sel    []int32    // indexes into eps
	eps    []Endpoint // s.Endpoints, or s.static for a static answer
	rcode  int
	reason string // how the all-down case was handled, for explanations
	// failover: the chain would have chosen an endpoint that is down, had
	// health not counted. Only worked out when no endpoint chosen is in a
	// degraded pool: the answer has the degraded TTL then either way.
	failover bool
}

// evaluate runs the chain and, when it leaves nothing because everything
// is down, the service's when_all_down choice. buf is scratch space, grown
// to twice the endpoints (the second half for failoverFrom) and returned
// for the next evaluation.
func (s *CompiledService) evaluate(ctx *Context, buf []int32) (outcome, []int32) {
	n := len(s.Endpoints)
	if cap(buf) < 2*n {
		buf = make([]int32, 0, 2*n)
	}
	c := candidates(s, buf[:0:n])
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
	if len(c) > 0 || n == 0 {
		o := outcome{sel: c, eps: s.Endpoints}
		// Whether the answer is a failover matters to its TTL alone,
		// which an answer from a degraded pool has degraded already.
		if ctx.healthDropped && !s.fromDegradedPool(&o) {
			o.failover = s.failoverFrom(ctx, buf[n:n:2*n])
		}
		return o, buf
	}
	switch s.Spec.WhenAllDown.Mode {
	case model.AllDownFailOpen:
		// Every endpoint the chain would answer if health did not count.
		// The explanation already shows why each endpoint was dropped;
		// the re-run is summed up by the reason.
		c = s.rerun(ctx, healthIgnored, true, c)
		return outcome{sel: c, eps: s.Endpoints, reason: "every endpoint is down: failing open (answering them regardless of health)"}, buf
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
		return outcome{sel: c, eps: s.Endpoints, reason: s.fallbackReason}, buf
	case model.AllDownStatic:
		c = c[:0]
		for i := range s.static {
			c = append(c, int32(i))
		}
		return outcome{sel: c, eps: s.static, reason: "every endpoint is down: answering the static fallback"}, buf
	case model.AllDownServFail:
		return outcome{rcode: dnsconst.RcodeServFail, reason: "every endpoint is down: answering SERVFAIL"}, buf
	}
	return outcome{reason: "every endpoint is down: answering no records"}, buf
}

// failoverFrom reports whether the endpoints the chain would have chosen
// among with every endpoint up include one that is down (failed, held
// down or drained): the answer is then a failover away from the policy's
// choice. The steps that only choose among equals (weight, shuffle,
// first_n) are left out, so a down endpoint that chance might have picked
// counts too. c is scratch space with room for every endpoint.
func (s *CompiledService) failoverFrom(ctx *Context, c []int32) bool {
	for _, i := range s.rerun(ctx, healthAbsent, false, c) {
		if e := &s.Endpoints[i]; !e.Up || !s.Pools[e.Pool].Up {
			return true
		}
	}
	return false
}

// rerun runs the chain again from every endpoint, unexplained, with the
// health filter counting health as mode, and the steps that only choose
// among equals (weight, shuffle, first_n) left out unless equals is set.
// c is scratch space with room for every endpoint.
func (s *CompiledService) rerun(ctx *Context, mode healthMode, equals bool, c []int32) []int32 {
	ex := ctx.Explain
	ctx.health, ctx.Explain = mode, nil
	c = candidates(s, c)
	for _, f := range s.Chain {
		switch f.kind {
		case fWeight, fShuffle, fFirstN:
			if !equals {
				continue
			}
		}
		c = f.apply(ctx, s, c)
	}
	ctx.health, ctx.Explain = healthCounts, ex
	return c
}

// candidates fills buf with every endpoint index.
func candidates(s *CompiledService, buf []int32) []int32 {
	c := buf[:0]
	for i := range s.Endpoints {
		c = append(c, int32(i))
	}
	return c
}

// answer builds the RRset of qtype from an outcome into set: the CNAME of
// the first chosen endpoint when it is a hostname (and the service does not
// flatten), else the chosen addresses of the family asked for.
func (s *CompiledService) answer(o *outcome, qtype uint16, set *zone.RRset) *zone.RRset {
	if len(o.sel) == 0 {
		return nil
	}
	set.TTL = s.ttlFor(o)
	first := &o.eps[o.sel[0]]
	if s.answersCNAME(first) {
		set.Type = dnsconst.TypeCNAME
		set.Rdata = append(set.Rdata, first.Host)
		return set
	}
	if qtype == dnsconst.TypeCNAME {
		return nil
	}
	if qtype == dnsconst.TypeANY {
		// RFC 8482: one RRset will do, A if there is one, else AAAA.
		if a := s.answer(o, dnsconst.TypeA, set); a != nil {
			return a
		}
		return s.answer(o, dnsconst.TypeAAAA, set)
	}
	set.Type = qtype
	for _, i := range o.sel {
		e := &o.eps[i]
		switch {
		case e.IsHost() && qtype == dnsconst.TypeA:
			for _, rd := range e.Flat4 {
				set.Rdata = appendUnique(set.Rdata, rd)
			}
		case e.IsHost():
			for _, rd := range e.Flat6 {
				set.Rdata = appendUnique(set.Rdata, rd)
			}
		case qtype == dnsconst.TypeA && e.Addr.Is4(), qtype == dnsconst.TypeAAAA && e.Addr.Is6():
			set.Rdata = appendUnique(set.Rdata, e.rdata)
		}
	}
	if len(set.Rdata) == 0 {
		return nil
	}
	return set
}

// answersCNAME reports whether an answer whose first endpoint is e is a
// CNAME to e's hostname (one record: the other endpoints are left out).
func (s *CompiledService) answersCNAME(e *Endpoint) bool { return e.IsHost() && !s.Spec.Flatten }

func appendUnique(list [][]byte, rd []byte) [][]byte {
	for _, x := range list {
		if string(x) == string(rd) {
			return list
		}
	}
	return append(list, rd)
}

// ttlFor is the TTL of an answer: the degraded TTL when it comes from a
// degraded pool, from a failover (an endpoint the policy would have chosen
// for this client is down), or from the when_all_down choice, so that
// clients come back soon after a recovery. A pool that is the client's
// choice by location or latency is not a failover, whatever its priority.
func (s *CompiledService) ttlFor(o *outcome) uint32 {
	if o.reason != "" || o.failover || s.fromDegradedPool(o) {
		return s.Spec.DegradedTTL
	}
	return s.Spec.TTL
}

// fromDegradedPool reports whether an endpoint chosen is in a degraded
// pool or in none (the static answer).
func (s *CompiledService) fromDegradedPool(o *outcome) bool {
	for _, i := range o.sel {
		if p := o.eps[i].Pool; p < 0 || s.Pools[p].Degraded {
			return true
		}
	}
	return false
}
