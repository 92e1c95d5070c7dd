package steer

import (
	"strconv"
	"sync"

	"github.com/stratusdns/stratus/internal/dnsconst"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/zone"
)

// How often answers include an endpoint (Answered.State).
const (
	AnsweredYes  = "yes"  // every answer to a client with no location
	AnsweredSome = "some" // some of them: a weighted or random choice picks it or another
	AnsweredNo   = "no"   // none of them
)

// Answered says whether the answers to a client with no location (no
// EDNS Client Subnet, an address the geo database does not place) include
// an endpoint, and why.
type Answered struct {
	State string
	Why   string
}

// AnsweredNow returns, by endpoint id, whether the service's answers to a
// client with no location include each endpoint now. It runs the
// service's own evaluation (chain and when_all_down) as a query does, up
// to the first step that chooses by chance (weight, shuffle): the
// endpoints left then are the ones that choice picks from, "some" when it
// can leave one out. Clients with a location can be answered otherwise by
// geo and latency steps; Explain shows one client's answer.
func (s *CompiledService) AnsweredNow() map[string]Answered {
	m := *s
	cut := len(s.Chain)
	for i, f := range s.Chain {
		if f.kind == fWeight || f.kind == fShuffle {
			cut = i
			break
		}
	}
	m.Chain = s.Chain[:cut:cut]
	x := &Explanation{}
	ctx := &Context{Client: &zone.Client{}, Explain: x}
	o, _ := m.evaluate(ctx, nil)

	// Why each endpoint was left out, as the explanation recorded it.
	removed := map[string]string{}
	for _, st := range x.Steps {
		for _, r := range st.Removed {
			removed[r.Endpoint] = r.Reason
		}
	}
	out := make(map[string]Answered, len(s.Endpoints))
	for i := range s.Endpoints {
		e := &s.Endpoints[i]
		why := removed[e.Spec.ID]
		if why == "" {
			why = e.Why
		}
		out[e.Spec.ID] = Answered{State: AnsweredNo, Why: why}
	}
	if o.rcode != dnsconst.RcodeSuccess || len(o.sel) == 0 || len(s.Endpoints) == 0 || &o.eps[0] != &s.Endpoints[0] {
		// SERVFAIL, no records, or the static answer: no endpoint.
		for id, a := range out {
			if o.reason != "" {
				a.Why = o.reason
			}
			out[id] = a
		}
		return out
	}
	sel := o.sel
	// A hostname answers as a CNAME, and a CNAME is one record: only the
	// first endpoint chosen is answered.
	n := len(sel)
	if s.answersCNAME(&s.Endpoints[sel[0]]) {
		n = 1
	}
	// The steps left choose by chance among sel (and a fail-open answer
	// runs them too; a fallback pool does not).
	chance := cut < len(s.Chain) && (o.reason == "" || s.Spec.WhenAllDown.Mode == model.AllDownFailOpen)
	if chance {
		for _, f := range s.Chain[cut:] {
			switch f.kind {
			case fWeight:
				n = min(n, 1)
			case fFirstN:
				n = min(n, f.n)
			}
		}
	}
	state, note := AnsweredYes, ""
	switch {
	case n < len(sel) && chance:
		state = AnsweredSome
		note = "one of " + strconv.Itoa(len(sel)) + " candidates, " + strconv.Itoa(n) + " per answer, chosen by " + s.Chain[cut].String()
	case n < len(sel):
		// A CNAME answer without chance: the others stay out.
		for _, i := range sel[n:] {
			a := out[s.Endpoints[i].Spec.ID]
			a.Why = "only the first hostname is answered (one CNAME)"
			out[s.Endpoints[i].Spec.ID] = a
		}
		sel = sel[:n]
	}
	for _, i := range sel {
		e := &s.Endpoints[i]
		why := e.Why
		if o.reason != "" {
			why += "; " + o.reason
		}
		if note != "" {
			why += "; " + note
		}
		out[e.Spec.ID] = Answered{State: state, Why: why}
	}
	return out
}

// endpointStates holds, for one compiled service, each endpoint's index
// and AnsweredNow's result, worked out once.
type endpointStates struct {
	once     sync.Once
	index    map[string]int
	answered map[string]Answered
}

// EndpointState returns the verdict on the endpoint with id and whether
// the answers to a client with no location include it
// (CompiledService.AnsweredNow), and false when the service has no such
// endpoint. Whether one endpoint is answered depends on the others (a
// better tier, a failover, the answer bound), so the first call evaluates
// the whole service, as AnsweredNow does; a compiled service never
// changes, so every later call looks its endpoint up. A renewal compiles
// nothing (the lease alone changed), so the replies to a service's
// renewals share one evaluation.
func (s *CompiledService) EndpointState(id string) (Verdict, Answered, bool) {
	st := s.states
	if st == nil { // not made by Compile
		st = &endpointStates{}
	}
	st.once.Do(func() {
		st.index = make(map[string]int, len(s.Endpoints))
		for i := range s.Endpoints {
			st.index[s.Endpoints[i].Spec.ID] = i
		}
		st.answered = s.AnsweredNow()
	})
	i, ok := st.index[id]
	if !ok {
		return Verdict{}, Answered{}, false
	}
	e := &s.Endpoints[i]
	return Verdict{Answerable: e.Up, Why: e.Why}, st.answered[id], true
}
