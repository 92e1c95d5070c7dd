package steer

import (
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/stratusdns/stratus/internal/geo"
	"github.com/stratusdns/stratus/internal/model"
)

// filterKind names a filter: its index in model.Filters.
type filterKind uint8

const (
	fHealth filterKind = iota
	fJurisdiction
	fPriority
	fGeo
	fLatency
	fWeight
	fShuffle
	fFirstN
)

// Filter is one step of a chain: a pure function from candidate endpoints
// (indexes into CompiledService.Endpoints) to the ones it keeps. It is a value with
// a switch rather than an interface so that a chain runs on the query path
// without anything escaping to the heap.
type Filter struct {
	kind filterKind
	n    int // first_n
}

// String returns the filter as written in a chain ("first_n:4").
func (f Filter) String() string {
	if f.kind == fFirstN {
		return "first_n:" + strconv.Itoa(f.n)
	}
	return model.Filters[f.kind]
}

// ParseFilter parses one element of an explicit chain.
func ParseFilter(s string) (Filter, error) {
	if err := model.CheckFilter(s); err != nil {
		return Filter{}, err
	}
	name, arg, _ := strings.Cut(s, ":")
	f := Filter{kind: filterKind(slices.Index(model.Filters, name))}
	if f.kind == fFirstN {
		f.n, _ = strconv.Atoi(arg) // checked by CheckFilter
	}
	return f, nil
}

// ChainFor returns a service's chain: its explicit chain, or its policy's.
func ChainFor(s *model.Service) ([]Filter, error) {
	if len(s.Chain) > 0 {
		out := make([]Filter, 0, len(s.Chain))
		for _, f := range s.Chain {
			pf, err := ParseFilter(f)
			if err != nil {
				return nil, err
			}
			out = append(out, pf)
		}
		return out, nil
	}
	// The jurisdiction comes first: it defines what may be answered at
	// all, so "everything is down" means everything allowed is down.
	first := Filter{kind: fFirstN, n: s.MaxAnswers}
	j, h, p := Filter{kind: fJurisdiction}, Filter{kind: fHealth}, Filter{kind: fPriority}
	switch s.Policy {
	case model.PolicyWeighted:
		return []Filter{j, h, p, {kind: fWeight}}, nil
	case model.PolicyMultivalue:
		return []Filter{j, h, p, {kind: fShuffle}, first}, nil
	case model.PolicyGeo:
		return []Filter{j, h, {kind: fGeo}, p, first}, nil
	case model.PolicyLatency:
		return []Filter{j, h, {kind: fLatency}, p, first}, nil
	}
	return []Filter{j, h, p, first}, nil // failover
}

// apply runs the filter over cands, filtering in place.
func (f Filter) apply(ctx *Context, s *CompiledService, c []int32) []int32 {
	switch f.kind {
	case fHealth:
		return filterHealth(ctx, s, c)
	case fJurisdiction:
		return filterJurisdiction(ctx, s, c)
	case fPriority:
		return filterPriority(ctx, s, c)
	case fGeo:
		return filterGeo(ctx, s, c)
	case fLatency:
		return filterLatency(ctx, s, c)
	case fWeight:
		return filterWeight(ctx, s, c)
	case fShuffle:
		for i := len(c) - 1; i > 0; i-- {
			j := int(ctx.Client.Rand() % uint64(i+1))
			c[i], c[j] = c[j], c[i]
		}
		return c
	case fFirstN:
		if len(c) > f.n {
			for _, i := range c[f.n:] {
				if ctx.Explain != nil {
					ctx.drop(s, i, "beyond the first "+strconv.Itoa(f.n))
				}
			}
			c = c[:f.n]
		}
		return c
	}
	return c
}

// filterHealth keeps endpoints that are up in pools that are up. When it
// keeps none, the service's when_all_down choice applies.
func filterHealth(ctx *Context, s *CompiledService, c []int32) []int32 {
	out := c[:0]
	switch ctx.health {
	case healthIgnored:
		// Failing open answers endpoints whatever their checks say, but
		// never one an operator took out.
		for _, i := range c {
			if !s.Endpoints[i].Drained {
				out = append(out, i)
			}
		}
		return out
	case healthAbsent:
		return c
	}
	for _, i := range c {
		e := &s.Endpoints[i]
		p := &s.Pools[e.Pool]
		switch {
		case !e.Up:
			if ctx.Explain != nil {
				ctx.drop(s, i, e.Why)
			}
		case !p.Up:
			if ctx.Explain != nil {
				ctx.drop(s, i, "pool "+p.Spec.Name+" is down: "+p.Why)
			}
		default:
			out = append(out, i)
			continue
		}
		ctx.healthDropped = true
	}
	return out
}

// filterJurisdiction keeps endpoints in pools whose jurisdiction the
// service allows: no fallback ever crosses it.
func filterJurisdiction(ctx *Context, s *CompiledService, c []int32) []int32 {
	out := c[:0]
	for _, i := range c {
		p := s.Endpoints[i].Pool
		if s.allowed[p] {
			out = append(out, i)
			continue
		}
		if ctx.Explain != nil {
			ctx.drop(s, i, "pool "+s.Pools[p].Spec.Name+" is in jurisdiction \""+s.Pools[p].Spec.Jurisdiction+"\", not one of "+strings.Join(s.Spec.Jurisdictions, ", "))
		}
	}
	return out
}

// filterPriority keeps the endpoints of the best (lowest) priority tier.
func filterPriority(ctx *Context, s *CompiledService, c []int32) []int32 {
	best := math.MaxInt
	for _, i := range c {
		best = min(best, s.Pools[s.Endpoints[i].Pool].Spec.Priority)
	}
	out := c[:0]
	for _, i := range c {
		if pr := s.Pools[s.Endpoints[i].Pool].Spec.Priority; pr != best {
			if ctx.Explain != nil {
				ctx.drop(s, i, "priority "+strconv.Itoa(pr)+" is behind the available tier "+strconv.Itoa(best))
			}
			continue
		}
		out = append(out, i)
	}
	return out
}

// geoRank orders a pool for a client location: lower is nearer. Pools
// with coordinates are ranked by distance when the client has
// coordinates; otherwise by region, then country, then continent match.
func geoRank(p *model.Pool, loc *geo.Location) float64 {
	if loc.HasCoords && p.Latitude != nil {
		return geo.Distance(loc.Lat, loc.Lon, *p.Latitude, *p.Longitude)
	}
	const far = 1e6 // beyond any distance on Earth
	switch {
	case loc.Region != "" && p.Region == loc.Region:
		return far
	case loc.Country != "" && p.Country == loc.Country:
		return 2 * far
	case loc.Continent != "" && p.Continent == loc.Continent:
		return 3 * far
	}
	return 4 * far
}

// filterGeo keeps the endpoints of the pool(s) nearest the client.
func filterGeo(ctx *Context, s *CompiledService, c []int32) []int32 {
	loc := ctx.location()
	// The answer depends on the client's network even when it is unknown
	// (a known network would be answered otherwise): scope it.
	ctx.useScope(loc)
	if !loc.Known || len(c) == 0 {
		if ctx.Explain != nil {
			ctx.Explain.note("geo: client location unknown; no endpoint removed")
		}
		return c
	}
	var rank poolCosts
	best := math.MaxFloat64
	for _, i := range c {
		pi := s.Endpoints[i].Pool
		best = min(best, rank.get(pi, func() float64 { return geoRank(s.Pools[pi].Spec, &loc) }))
	}
	out := c[:0]
	for _, i := range c {
		pi := s.Endpoints[i].Pool
		p := s.Pools[pi].Spec
		if rank.v[pi] > best {
			if ctx.Explain != nil {
				ctx.drop(s, i, "pool "+p.Name+" is farther from the client than the nearest available pool")
			}
			continue
		}
		out = append(out, i)
	}
	return out
}

// LatencyTable gives, per client region, the latency in milliseconds to
// each pool region.
type LatencyTable map[string]map[string]uint32

// filterLatency keeps the endpoints of the pool with the lowest latency
// for the client: from the latency table for the client's region, else
// from the pools' measured check RTTs.
func filterLatency(ctx *Context, s *CompiledService, c []int32) []int32 {
	if len(c) == 0 {
		return c
	}
	loc := ctx.location()
	row := ctx.latency[loc.Region]
	cost := func(p *Pool) float64 {
		if row != nil {
			if ms, ok := row[p.Spec.Region]; ok {
				return float64(ms)
			}
			return math.MaxFloat64 / 2
		}
		if p.RTT > 0 {
			return float64(p.RTT.Microseconds()) / 1000
		}
		return math.MaxFloat64 / 2
	}
	if len(ctx.latency) > 0 {
		ctx.useScope(loc) // the table makes the answer depend on the network
	}
	var costs poolCosts
	best := math.MaxFloat64
	for _, i := range c {
		pi := s.Endpoints[i].Pool
		best = min(best, costs.get(pi, func() float64 { return cost(&s.Pools[pi]) }))
	}
	out := c[:0]
	for _, i := range c {
		pi := s.Endpoints[i].Pool
		p := &s.Pools[pi]
		if costs.v[pi] > best {
			if ctx.Explain != nil {
				ctx.drop(s, i, "pool "+p.Spec.Name+" has a higher latency than the best available pool")
			}
			continue
		}
		out = append(out, i)
	}
	return out
}

// filterWeight keeps one endpoint chosen with probability proportional to
// its weight (endpoint weight × pool weight). With sticky, the choice is a
// function of the client's subnet, so a resolver keeps its endpoint.
func filterWeight(ctx *Context, s *CompiledService, c []int32) []int32 {
	if len(c) <= 1 {
		return c
	}
	var total uint64
	for _, i := range c {
		total += s.Endpoints[i].Weight
	}
	if total == 0 {
		return c[:1]
	}
	var pick int32
	if s.Spec.Sticky {
		ctx.useStickyScope()
		pick = rendezvous(s, c, subnetHash(ctx))
	} else {
		r := ctx.Client.Rand() % total
		pick = c[0]
		for _, i := range c {
			w := s.Endpoints[i].Weight
			if r < w {
				pick = i
				break
			}
			r -= w
		}
	}
	for _, i := range c {
		if i != pick {
			if ctx.Explain != nil {
				ctx.drop(s, i, "not chosen by weight")
			}
		}
	}
	c[0] = pick
	return c[:1]
}

// rendezvous picks, for the subnet hash h, the candidate with the highest
// weighted rendezvous score w / -ln(u), u uniform in (0,1) from h and the
// endpoint. Each endpoint wins a share of subnets proportional to its
// weight, and when the candidates change only the subnets of an endpoint
// that left (or the share a new one takes) move: the others keep theirs.
func rendezvous(s *CompiledService, c []int32, h uint64) int32 {
	best, bestScore := c[0], -1.0
	for _, i := range c {
		e := &s.Endpoints[i]
		if e.Weight == 0 {
			continue
		}
		u := (float64(mix64(h^e.seed)>>11) + 0.5) / (1 << 53)
		if score := float64(e.Weight) / -math.Log(u); score > bestScore {
			best, bestScore = i, score
		}
	}
	return best
}

// mix64 is the splitmix64 finaliser.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// poolCosts memoises a per-pool cost for one filter run.
type poolCosts struct {
	done uint64 // bit i: v[i] is set (model.MaxPools == 64)
	v    [model.MaxPools]float64
}

func (pc *poolCosts) get(i int, f func() float64) float64 {
	if pc.done&(1<<i) == 0 {
		pc.v[i], pc.done = f(), pc.done|1<<i
	}
	return pc.v[i]
}
