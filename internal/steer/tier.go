package steer

import (
	"math"
	"strings"

	"github.com/stratusdns/stratus/internal/zone"
)

// A service's first tier is the best (lowest) priority among the pools
// it may answer from (its jurisdictions), whether or not they have
// endpoints; a chain without a priority step has one tier, every pool.
// Its answers come from the first tier while an endpoint there is
// answerable (up, in a pool that is up); from a fallback tier, the best
// one with an answerable endpoint, when the first has none; and from its
// when_all_down policy when no endpoint is answerable (or it has none).
// Leaving the first tier is a failover.

// Tier says where a service's answers come from.
type Tier struct {
	// Reason is ReasonHealthy (the first tier), ReasonFallback (a lower
	// tier) or ReasonAllDown (the when_all_down policy).
	Reason string
	// Pool is the pool answered from (a client with no location; the
	// first by definition order when a tier has several): "" for a
	// static answer, SERVFAIL or no records.
	Pool string
	// First is the first pool of the first tier, by definition order.
	First string
	// Why says what the pools of the first tier are, as "pool NAME:
	// why", joined by "; ".
	Why string
}

// firstTier works out the priority of the first tier. Called by Compile.
func (s *CompiledService) firstTier() {
	for _, f := range s.Chain {
		if f.kind == fPriority {
			s.tiered = true
		}
	}
	s.firstPriority = math.MaxInt
	for i := range s.Pools {
		if s.allowed[i] {
			s.firstPriority = min(s.firstPriority, s.priority(i))
		}
	}
}

// priority is pool i's tier.
func (s *CompiledService) priority(i int) int {
	if !s.tiered {
		return 0
	}
	return s.Pools[i].Spec.Priority
}

// Settled reports whether the first tier has endpoints, and every
// checked one of them a check result: until then, where the answers
// come from is the cold start's guess (or, with no endpoint yet, a
// service still being set up), not what the checks found.
func (s *CompiledService) Settled() bool {
	n := 0
	for i := range s.Endpoints {
		e := &s.Endpoints[i]
		if !s.allowed[e.Pool] || s.priority(e.Pool) != s.firstPriority {
			continue
		}
		if e.Pending {
			return false
		}
		n++
	}
	return n > 0
}

// Tier returns where the service's answers come from now.
func (s *CompiledService) Tier() Tier {
	var t Tier
	var why []string
	for i := range s.Pools {
		if s.allowed[i] && s.priority(i) == s.firstPriority {
			if t.First == "" {
				t.First = s.Pools[i].Spec.Name
			}
			why = append(why, "pool "+s.Pools[i].Spec.Name+": "+s.Pools[i].Why)
		}
	}
	t.Why = strings.Join(why, "; ")
	best, pool := math.MaxInt, -1
	for i := range s.Endpoints {
		e := &s.Endpoints[i]
		if !s.allowed[e.Pool] || !e.Up || !s.Pools[e.Pool].Up {
			continue
		}
		if pr := s.priority(e.Pool); pr < best || pr == best && e.Pool < pool {
			best, pool = pr, e.Pool
		}
	}
	switch {
	case pool >= 0 && best == s.firstPriority:
		t.Reason, t.Pool = ReasonHealthy, s.Pools[pool].Spec.Name
	case pool >= 0:
		t.Reason, t.Pool = ReasonFallback, s.Pools[pool].Spec.Name
	default:
		// The when_all_down answer, as a client with no location gets it.
		t.Reason = ReasonAllDown
		m := *s
		m.Chain = nil
		for _, f := range s.Chain {
			if materialChain[f.kind] {
				m.Chain = append(m.Chain, f)
			}
		}
		o, _ := m.evaluate(&Context{Client: &zone.Client{}}, nil)
		if len(o.sel) > 0 && len(s.Endpoints) > 0 && &o.eps[0] == &s.Endpoints[0] {
			t.Pool = s.Pools[s.Endpoints[o.sel[0]].Pool].Spec.Name
		}
	}
	return t
}
