package steer

import (
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/stratusdns/stratus/internal/dnsconst"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/zone"
)

// CompiledService is a compiled service: everything the chain needs, immutable.
type CompiledService struct {
	Spec      *model.Service
	Owner     string // lowercase wire format
	Pools     []Pool
	Endpoints []Endpoint
	Chain     []Filter
	// Degraded is set when a pool has endpoints down or an endpoint is
	// held down.
	Degraded       bool
	static         []Endpoint // the when_all_down static answer
	fallback       int        // index of the fallback pool, or -1
	fallbackReason string
	allowed        []bool // per pool: allowed by the jurisdiction constraint

	// fixed holds the answers of a chain that depends on nothing but the
	// compiled state (no location, weight or shuffle): computed once
	// here, by the same chain, and returned to every query.
	fixed *fixedAnswers

	// states is what EndpointState returns, worked out at its first call.
	states *endpointStates

	// firstPriority is the priority of the service's first tier: the
	// best among the pools it may answer from (0 for every pool when the
	// chain does not choose by priority).
	firstPriority int
	tiered        bool
	// meter counts the service's answers at ids (nil: not counted).
	meter *Meter
	ids   answerIDs
}

// fixedAnswers are a deterministic chain's answers per query type.
type fixedAnswers struct {
	a, aaaa, cname, any *zone.RRset
	rcode               int
	id                  uint32 // where they are counted (CompiledService.meter)
}

// Pool is a compiled pool.
type Pool struct {
	Spec    *model.Pool
	Up      bool   // enough healthy endpoints (or forced up)
	Healthy int    // endpoints up
	Total   int    // endpoints
	Why     string // why the pool is up or down
	RTT     time.Duration
	// Degraded: some of its endpoints are down or held down. Answers from
	// a degraded pool, from a failover (an endpoint the policy would have
	// chosen is down) or for lack of any healthy endpoint carry the
	// service's degraded TTL.
	Degraded bool
}

// Endpoint is a compiled endpoint.
type Endpoint struct {
	Spec    *model.Endpoint
	Key     string // "<service>|<id>", the health key
	Pool    int
	Addr    netip.Addr // the answer when it is an address
	Host    []byte     // the answer when it is a hostname: wire-format CNAME target
	Flat4   [][]byte   // flattened A records of a hostname (ALIAS)
	Flat6   [][]byte   // flattened AAAA records
	rdata   []byte     // A or AAAA RDATA of Addr
	seed    uint64     // hash of Key, for sticky (rendezvous) choices
	Weight  uint64     // endpoint weight × pool weight
	Up      bool
	Why     string // why the endpoint is up or down
	Drained bool   // forced down by an operator (endpoint or pool)
	// Pending: the endpoint is checked but has no check result yet, so
	// its cold start decides Up.
	Pending bool
	Health  Health
}

// Verdict is what answers make of one endpoint: whether a query may be
// answered with it, and why.
type Verdict struct {
	Answerable bool
	Why        string
}

// Verdicts returns the verdict on each endpoint of the service, by id.
func (s *CompiledService) Verdicts() map[string]Verdict {
	out := make(map[string]Verdict, len(s.Endpoints))
	for i := range s.Endpoints {
		e := &s.Endpoints[i]
		out[e.Spec.ID] = Verdict{Answerable: e.Up, Why: e.Why}
	}
	return out
}

// HealthState is what the checks say of an endpoint.
type HealthState uint8

const (
	Unknown HealthState = iota // no check result yet
	Up
	Down
)

// Health is an endpoint's checked health, as steering needs it (the
// controller translates the health checker's statuses).
type Health struct {
	State     HealthState
	Added     time.Time // when checking started
	HeldUntil time.Time // damping holds it down until then
	LastError string
	RTT       time.Duration
}

// IsHost reports whether the endpoint answers a hostname.
func (e *Endpoint) IsHost() bool { return e.Host != nil }

// Inputs are what Compile needs besides the service and its endpoints.
type Inputs struct {
	Now time.Time
	// Health returns an endpoint's checked health.
	Health func(key string) (Health, bool)
	// Flat returns the addresses a hostname resolves to, for flattened
	// services (nil when not resolved yet).
	Flat func(host model.Name) (v4, v6 []netip.Addr)
	// Parse parses an endpoint address; callers compiling often pass a
	// cache (nil: ParseTarget).
	Parse func(addr string) (Target, error)
	// Meter counts the service's answers (nil: they are not counted).
	Meter *Meter
}

// Target is a parsed endpoint address: an IP address, or a hostname with
// its wire form.
type Target struct {
	Addr netip.Addr
	Host model.Name
	Wire []byte
}

// ParseTarget parses an endpoint address.
func ParseTarget(addr string) (Target, error) {
	t, err := model.ParseTarget(addr)
	if err != nil {
		return Target{}, err
	}
	out := Target{Addr: t.Addr, Host: t.Host}
	if t.Host != "" {
		out.Wire = t.Host.Wire()
	}
	return out, nil
}

// Key returns the health key of an endpoint.
func Key(service model.Name, id string) string { return string(service) + "|" + id }

// ColdUntil returns when a target added at added stops being covered by
// the service's "wait" cold start, or the zero time.
func ColdUntil(s *model.Service, added time.Time) time.Time {
	if s.ColdStart.Mode != model.ColdWait {
		return time.Time{}
	}
	return added.Add(s.ColdStart.Wait.D())
}

// Compile builds the compiled form of a service from its spec, its
// endpoints and their health at in.Now.
func Compile(spec *model.Service, eps []*model.Endpoint, in Inputs) (*CompiledService, error) {
	chain, err := ChainFor(spec)
	if err != nil {
		return nil, err
	}
	owner := string(spec.Name.Wire())
	s := &CompiledService{Spec: spec, Owner: owner, Chain: chain, fallback: -1, states: &endpointStates{}}
	s.Pools = make([]Pool, len(spec.Pools))
	s.allowed = make([]bool, len(spec.Pools))
	poolIndex := map[string]int{}
	for i := range spec.Pools {
		p := &spec.Pools[i]
		s.Pools[i].Spec = p
		poolIndex[p.Name] = i
		s.allowed[i] = len(spec.Jurisdictions) == 0 || slices.Contains(spec.Jurisdictions, p.Jurisdiction)
		if spec.WhenAllDown.Mode == model.AllDownFallback && p.Name == spec.WhenAllDown.Pool {
			s.fallback = i
			s.fallbackReason = "every endpoint is down: answering the fallback pool " + p.Name
		}
	}
	parse := in.Parse
	if parse == nil {
		parse = ParseTarget
	}
	var rtts = make([][]time.Duration, len(s.Pools))
	s.Endpoints = make([]Endpoint, 0, len(eps))
	for _, m := range eps {
		pi, ok := poolIndex[m.Pool]
		if !ok || m.Lapsed(in.Now) {
			continue
		}
		e := Endpoint{Spec: m, Key: Key(spec.Name, m.ID), Pool: pi, Weight: uint64(m.Weight) * uint64(spec.Pools[pi].Weight)}
		e.seed = fnv64(e.Key)
		t, err := parse(m.Address)
		if err != nil {
			continue // validated on write; skip rather than fail the service
		}
		e.setTarget(t)
		if t.Host != "" && spec.Flatten && in.Flat != nil {
			v4, v6 := in.Flat(t.Host)
			e.Flat4, e.Flat6 = addrData(v4), addrData(v6)
		}
		e.Up, e.Why = endpointState(spec, &spec.Pools[pi], &e, in)
		if e.Up && spec.Flatten && e.Host != nil && len(e.Flat4) == 0 && len(e.Flat6) == 0 {
			// Nothing to answer for it yet: choosing it would answer
			// NODATA while another endpoint could answer addresses.
			e.Up, e.Why = false, "its hostname has not resolved to any address (yet)"
		}
		own, pool := m.Override.Forced(in.Now), spec.Pools[pi].Override.Forced(in.Now)
		e.Drained = own == "down" || pool == "down" && own == ""
		if e.Up && e.Health.RTT > 0 {
			rtts[pi] = append(rtts[pi], e.Health.RTT)
		}
		s.Endpoints = append(s.Endpoints, e)
	}
	for j := range s.Endpoints {
		e := &s.Endpoints[j]
		p := &s.Pools[e.Pool]
		p.Total++
		if e.Up {
			p.Healthy++
		}
		if !e.Health.HeldUntil.IsZero() && in.Now.Before(e.Health.HeldUntil) {
			p.Degraded = true
		}
	}
	for i := range s.Pools {
		p := &s.Pools[i]
		switch p.Spec.Override.Forced(in.Now) {
		case "up":
			p.Up, p.Why = true, "forced up by "+who(p.Spec.Override)
		case "down":
			p.Up, p.Why = false, "drained by "+who(p.Spec.Override)
		default:
			switch {
			case p.Healthy >= p.Spec.MinHealthy:
				p.Up, p.Why = true, strconv.Itoa(p.Healthy)+" of "+strconv.Itoa(p.Total)+" endpoints up"
			default:
				p.Up, p.Why = false, strconv.Itoa(p.Healthy)+" of "+strconv.Itoa(p.Total)+" endpoints up, fewer than min_healthy "+strconv.Itoa(p.Spec.MinHealthy)
			}
		}
		if p.Total > 0 && p.Healthy < p.Total {
			p.Degraded = true
		}
		s.Degraded = s.Degraded || p.Degraded
		p.RTT = median(rtts[i])
	}
	for _, a := range spec.WhenAllDown.Static {
		t, err := parse(a)
		if err != nil {
			continue
		}
		e := Endpoint{Key: "static", Pool: -1, Up: true, Why: "static answer"}
		e.setTarget(t)
		s.static = append(s.static, e)
	}
	s.firstTier()
	s.meterIDs(in.Meter)
	s.precompute()
	return s, nil
}

// setTarget makes t what the endpoint answers: a CNAME to its hostname, or
// its address.
func (e *Endpoint) setTarget(t Target) {
	if t.Host != "" {
		e.Host = t.Wire
		return
	}
	e.Addr, e.rdata = t.Addr, addrBytes(t.Addr)
}

// endpointState decides whether an endpoint counts as up, and why.
func endpointState(spec *model.Service, p *model.Pool, e *Endpoint, in Inputs) (bool, string) {
	switch e.Spec.Override.Forced(in.Now) {
	case "up":
		return true, "forced up by " + who(e.Spec.Override)
	case "down":
		return false, "forced down by " + who(e.Spec.Override)
	}
	switch p.Override.Forced(in.Now) {
	case "up":
		return true, "pool " + p.Name + " forced up by " + who(p.Override)
	case "down":
		return false, "pool " + p.Name + " drained by " + who(p.Override)
	}
	if p.Check.Type == model.CheckNone {
		return true, "not checked"
	}
	st, ok := Health{}, false
	if in.Health != nil {
		st, ok = in.Health(e.Key)
	}
	e.Health = st
	if ok && !st.HeldUntil.IsZero() && in.Now.Before(st.HeldUntil) {
		return false, "held down for flapping until " + st.HeldUntil.UTC().Format(time.RFC3339)
	}
	switch {
	case ok && st.State == Up:
		return true, "check: up"
	case ok && st.State == Down:
		why := "check: down"
		if st.LastError != "" {
			why += " (" + st.LastError + ")"
		}
		return false, why
	}
	e.Pending = true
	switch spec.ColdStart.Mode {
	case model.ColdDown:
		return false, "no check result yet (cold start: down)"
	case model.ColdWait:
		added := st.Added
		if added.IsZero() {
			added = e.Spec.Created
		}
		if in.Now.Before(ColdUntil(spec, added)) {
			return false, "no check result yet (cold start: waiting)"
		}
		return true, "no check result within the cold-start wait (counted up)"
	}
	return true, "no check result yet (cold start: healthy)"
}

func addrBytes(a netip.Addr) []byte {
	if a.Is4() {
		b := a.As4()
		return b[:]
	}
	b := a.As16()
	return b[:]
}

func addrData(as []netip.Addr) [][]byte {
	var out [][]byte
	for _, a := range as {
		out = append(out, addrBytes(a))
	}
	return out
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	// Small slices: insertion sort.
	for i := 1; i < len(d); i++ {
		for j := i; j > 0 && d[j] < d[j-1]; j-- {
			d[j], d[j-1] = d[j-1], d[j]
		}
	}
	return d[len(d)/2]
}

// who names an override's actor, with its reason.
func who(o *model.Override) string {
	if o.Reason != "" {
		return o.Actor + ": " + o.Reason
	}
	return o.Actor
}

// precompute stores the answers of a deterministic chain.
func (s *CompiledService) precompute() {
	for _, f := range s.Chain {
		switch f.kind {
		case fGeo, fLatency, fWeight, fShuffle:
			return // depends on the client or on chance
		}
	}
	var c zone.Client
	ctx := Context{Client: &c}
	o, _ := s.evaluate(&ctx, nil)
	fa := &fixedAnswers{rcode: o.rcode}
	if s.meter != nil {
		fa.id = s.answerID(&o)
	}
	if o.rcode == dnsconst.RcodeSuccess {
		fa.a = s.answer(&o, dnsconst.TypeA, &zone.RRset{})
		fa.aaaa = s.answer(&o, dnsconst.TypeAAAA, &zone.RRset{})
		fa.cname = s.answer(&o, dnsconst.TypeCNAME, &zone.RRset{})
		fa.any = s.answer(&o, dnsconst.TypeANY, &zone.RRset{})
	}
	s.fixed = fa
}
