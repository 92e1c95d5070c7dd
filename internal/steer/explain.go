package steer

import (
	"net/netip"

	"github.com/stratusdns/stratus/internal/dnsconst"
	"github.com/stratusdns/stratus/internal/geo"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/zone"
)

// Explanation says why a steered name answers what it does for a client:
// every filter of the chain with what it kept and what it removed, why.
// The API renders it as apiv1.Explanation.
type Explanation struct {
	Service  string
	QType    string
	Client   string
	Subnet   string
	Location geo.Location
	Steps    []Step
	Notes    []string
	AllDown  string
	Rcode    string
	Answer   []string
	TTL      uint32
	Scope    uint8
	Pools    []PoolState
}

// Step is one filter's effect.
type Step struct {
	Filter  string
	In      []string
	Out     []string
	Removed []Removal
}

// Removal is one endpoint a filter removed.
type Removal struct {
	Endpoint string
	Pool     string
	Reason   string
}

// PoolState is a pool's state as the evaluation saw it.
type PoolState struct {
	Name    string
	Up      bool
	Healthy int
	Total   int
	Why     string
}

func (x *Explanation) begin(filter string, s *CompiledService, c []int32) {
	x.Steps = append(x.Steps, Step{Filter: filter, In: ids(s, c)})
}

func (x *Explanation) end(s *CompiledService, c []int32) {
	st := &x.Steps[len(x.Steps)-1]
	st.Out = ids(s, c)
}

func (x *Explanation) removed(s *CompiledService, i int32, reason string) {
	if len(x.Steps) == 0 {
		return
	}
	e := &s.Endpoints[i]
	st := &x.Steps[len(x.Steps)-1]
	st.Removed = append(st.Removed, Removal{Endpoint: e.Spec.ID, Pool: s.Pools[e.Pool].Spec.Name, Reason: reason})
}

func (x *Explanation) note(s string) { x.Notes = append(x.Notes, s) }

func ids(s *CompiledService, c []int32) []string {
	out := make([]string, 0, len(c))
	for _, i := range c {
		out = append(out, s.Endpoints[i].Spec.ID)
	}
	return out
}

// Explain evaluates the service for a client as a query would, recording
// every step. subnet, when valid, stands for an EDNS Client Subnet.
func (s *Snapshot) Explain(owner string, qtype uint16, client netip.Addr, subnet netip.Prefix) (*Explanation, bool) {
	svc := s.services[owner]
	if svc == nil {
		return nil, false
	}
	c := &zone.Client{Addr: client}
	if subnet.IsValid() {
		c.HasECS, c.ECSAddr, c.ECSSource = true, subnet.Masked().Addr(), uint8(subnet.Bits())
	}
	c.Seed(uint64(client.As16()[15]) + 1)
	x := &Explanation{Service: string(svc.Spec.Name), QType: model.TypeString(qtype), Client: client.String(), Answer: []string{}}
	if subnet.IsValid() {
		x.Subnet = subnet.Masked().String()
	}
	for _, p := range svc.Pools {
		x.Pools = append(x.Pools, PoolState{Name: p.Spec.Name, Up: p.Up, Healthy: p.Healthy, Total: p.Total, Why: p.Why})
	}
	ctx := Context{Client: c, Explain: x, locator: s.locator, latency: s.latency}
	o, _ := svc.evaluate(&ctx, nil)
	ctx.location()
	x.AllDown = o.reason
	x.Rcode = "NOERROR"
	if o.rcode != dnsconst.RcodeSuccess {
		x.Rcode = "SERVFAIL"
	}
	if set := svc.answer(&o, qtype, &zone.RRset{}); set != nil {
		for _, rd := range set.Rdata {
			txt, err := model.FormatRdata(set.Type, rd)
			if err != nil {
				continue
			}
			x.Answer = append(x.Answer, model.TypeString(set.Type)+" "+txt)
		}
		x.TTL = set.TTL
	}
	x.Scope = c.Scope
	return x, true
}

// Hypothesis names pools and endpoints to take as forced down, for an
// explanation of what would be answered if they failed (a drill's dry
// run). Nothing is changed.
type Hypothesis struct {
	DownPools     []string
	DownEndpoints []string
}
