package drill

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/stratusdns/stratus/internal/model"
)

// fakePlane is a control plane of one service, api.example.com., a
// failover service with pools in two regions of the EU and one in the US,
// one endpoint each. Overrides lapse at the end of their lease, as the
// control plane's do.
type fakePlane struct {
	mu        sync.Mutex
	pools     []fakePool
	endpoints []fakeEndpoint
	down      []string // what Unanswerable says
}

type fakePool struct {
	Pool
	priority int
	fakeLease
}

type fakeEndpoint struct {
	Endpoint
	fakeLease
}

// fakeLease is when an override was set, for how long (0: for good), and
// how many times it was set.
type fakeLease struct {
	set   time.Time
	lease time.Duration
	sets  int
}

// forced returns the state an override forces at now: "" when there is
// none or its lease is over.
func forced(o Override, l fakeLease, now time.Time) string {
	if l.lease > 0 && !now.Before(l.set.Add(l.lease)) {
		return ""
	}
	return o.State
}

const fakeService model.Name = "api.example.com."

func newFakePlane() *fakePlane {
	return &fakePlane{
		pools: []fakePool{
			{Pool: Pool{Name: "dub", Region: "eu-west", Provider: "aws", Jurisdiction: "eu"}, priority: 1},
			{Pool: Pool{Name: "fra", Region: "eu-central", Provider: "gcp", Jurisdiction: "eu"}, priority: 2},
			{Pool: Pool{Name: "iad", Region: "us-east", Provider: "aws", Jurisdiction: "us"}, priority: 3},
		},
		endpoints: []fakeEndpoint{
			{Endpoint: Endpoint{ID: "dub-1", Pool: "dub", Address: "192.0.2.1"}},
			{Endpoint: Endpoint{ID: "fra-1", Pool: "fra", Address: "192.0.2.2"}},
			{Endpoint: Endpoint{ID: "iad-1", Pool: "iad", Address: "198.51.100.1"}},
		},
	}
}

func (p *fakePlane) Service(_ context.Context, name model.Name) (*Service, error) {
	if name != fakeService {
		return nil, fmt.Errorf("service %s not found", name)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	out := &Service{Name: name}
	for _, fp := range p.pools {
		out.Pools = append(out.Pools, fp.Pool)
	}
	for _, fe := range p.endpoints {
		out.Endpoints = append(out.Endpoints, fe.Endpoint)
	}
	return out, nil
}

func (p *fakePlane) SetFault(_ context.Context, f Fault, reason, actor string, lease time.Duration) error {
	return p.override(f, "down", actor, lease)
}

func (p *fakePlane) ClearFault(_ context.Context, f Fault, actor string) error {
	return p.override(f, "", actor, 0)
}

func (p *fakePlane) Unanswerable(context.Context, model.Name) ([]string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.down, nil
}

// override sets the override on a pool or endpoint, as an operator would
// through the API.
func (p *fakePlane) override(f Fault, state, actor string, lease time.Duration) error {
	if f.Service != fakeService {
		return fmt.Errorf("service %s not found", f.Service)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	set := func(o *Override, l *fakeLease) {
		*o = Override{State: state, Actor: actor}
		*l = fakeLease{set: time.Now(), lease: lease, sets: l.sets + 1}
	}
	for i := range p.pools {
		if f.Endpoint == "" && p.pools[i].Name == f.Pool {
			set(&p.pools[i].Override, &p.pools[i].fakeLease)
			return nil
		}
	}
	for i := range p.endpoints {
		if f.Endpoint != "" && p.endpoints[i].ID == f.Endpoint {
			set(&p.endpoints[i].Override, &p.endpoints[i].fakeLease)
			return nil
		}
	}
	return fmt.Errorf("%s not found", f)
}

// pool returns a copy of a pool as it is now.
func (p *fakePlane) pool(name string) fakePool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, fp := range p.pools {
		if fp.Name == name {
			return fp
		}
	}
	panic("no pool " + name)
}

// endpoint returns a copy of an endpoint as it is now.
func (p *fakePlane) endpoint(id string) fakeEndpoint {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, fe := range p.endpoints {
		if fe.ID == id {
			return fe
		}
	}
	panic("no endpoint " + id)
}

// answer is what a failover service answers at now: the addresses of the
// endpoints of the best pool not forced down, but those forced down.
func (p *fakePlane) answer(now time.Time) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	best := -1
	for _, fp := range p.pools {
		if forced(fp.Override, fp.fakeLease, now) != "down" && (best < 0 || fp.priority < best) {
			best = fp.priority
		}
	}
	var out []string
	for _, fe := range p.endpoints {
		for _, fp := range p.pools {
			if fp.Name == fe.Pool && fp.priority == best && forced(fe.Override, fe.fakeLease, now) != "down" {
				out = append(out, fe.Address)
			}
		}
	}
	return out
}
