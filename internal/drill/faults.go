package drill

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/model"
)

// Control is what a drill reads and changes: the services under test and
// time-limited overrides. *control.Service is one.
type Control interface {
	GetService(ctx context.Context, name model.Name) (*model.Service, error)
	Endpoints(ctx context.Context, svc model.Name) ([]*model.Endpoint, error)
	SetEndpointOverride(ctx context.Context, svc model.Name, id, state, reason, actor string, ttl time.Duration) (*model.Endpoint, error)
	SetPoolOverride(ctx context.Context, svc model.Name, pool, state, reason string, ttl time.Duration, wo control.ServiceWriteOptions) (*model.Service, error)
}

// fault is one override a drill holds: a pool, or one endpoint when id is
// set.
type fault struct {
	service model.Name
	pool    string
	id      string
}

func (f fault) String() string {
	if f.id != "" {
		return fmt.Sprintf("endpoint %s of %s", f.id, f.service)
	}
	return fmt.Sprintf("pool %s of %s", f.pool, f.service)
}

// world is what the drill knows of the services under test.
type world struct {
	services  map[model.Name]*model.Service
	endpoints map[model.Name][]*model.Endpoint
}

func loadWorld(ctx context.Context, ctl Control, s *Scenario) (*world, error) {
	w := &world{services: map[model.Name]*model.Service{}, endpoints: map[model.Name][]*model.Endpoint{}}
	for _, name := range s.Services {
		n, _ := model.ParseName(name) // checked by ParseScenario
		svc, err := ctl.GetService(ctx, n)
		if err != nil {
			return nil, fmt.Errorf("service %s: %w", n, err)
		}
		eps, err := ctl.Endpoints(ctx, n)
		if err != nil {
			return nil, fmt.Errorf("service %s: %w", n, err)
		}
		w.services[n], w.endpoints[n] = svc, eps
	}
	return w, nil
}

// endpoints returns what each endpoint id is answered as and where it
// belongs, for the evaluation.
func (w *world) endpointInfo() Endpoints {
	out := Endpoints{}
	for n, eps := range w.endpoints {
		svc := w.services[n]
		for _, e := range eps {
			info := EndpointInfo{Answer: e.Address, Service: string(n), Pool: e.Pool}
			if p := svc.Pool(e.Pool); p != nil {
				info.Jurisdiction = p.Jurisdiction
			}
			if _, err := model.ParseName(e.Address); err == nil && !isAddress(e.Address) {
				info.Answer = string(model.MustName(e.Address))
			}
			out[e.ID] = info
		}
	}
	return out
}

// faults resolves a target into the overrides that take it down.
func (w *world) faults(t *Target) ([]fault, error) {
	var out []fault
	for n, svc := range w.services {
		if t.Service != "" {
			if sn, _ := model.ParseName(t.Service); sn != n {
				continue
			}
		}
		switch {
		case t.Endpoint != "":
			for _, e := range w.endpoints[n] {
				if e.ID == t.Endpoint {
					out = append(out, fault{service: n, id: e.ID})
				}
			}
		default:
			for _, p := range svc.Pools {
				if (t.Pool != "" && p.Name == t.Pool) || (t.Region != "" && p.Region == t.Region) ||
					(t.Provider != "" && p.Provider == t.Provider) || (t.Jurisdiction != "" && p.Jurisdiction == t.Jurisdiction) {
					out = append(out, fault{service: n, pool: p.Name})
				}
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("it matches no endpoint or pool of the services under test")
	}
	return out, nil
}

// stepFaults resolves every fail and restore step's target, so that a
// target matching nothing fails the drill before anything changes.
func (w *world) stepFaults(s *Scenario) ([][]fault, error) {
	out := make([][]fault, len(s.Steps))
	for i := range s.Steps {
		t := s.Steps[i].Fail
		if t == nil {
			t = s.Steps[i].Restore
		}
		if t == nil || t.Run != "" {
			continue // a wait, or a hook
		}
		fs, err := w.faults(t)
		if err != nil {
			return nil, fmt.Errorf("steps[%d]: %w", i, err)
		}
		out[i] = fs
	}
	return out, nil
}

// faultSet holds a drill's overrides: each set with a lease, renewed while
// the drill runs, cleared at its end (or when it is aborted); a drill that
// dies leaves overrides that end by themselves within the lease.
type faultSet struct {
	ctl    Control
	actor  string
	lease  time.Duration
	mu     sync.Mutex
	active map[fault]string // the reason each was set with
}

func newFaultSet(ctl Control, drill string, lease time.Duration) *faultSet {
	return &faultSet{ctl: ctl, actor: "drill:" + drill, lease: lease, active: map[fault]string{}}
}

func (fs *faultSet) set(ctx context.Context, f fault, reason string) error {
	var err error
	if f.id != "" {
		_, err = fs.ctl.SetEndpointOverride(ctx, f.service, f.id, "down", reason, fs.actor, fs.lease)
	} else {
		_, err = fs.ctl.SetPoolOverride(ctx, f.service, f.pool, "down", reason, fs.lease, control.ServiceWriteOptions{Actor: fs.actor})
	}
	if err != nil {
		return fmt.Errorf("take down %s: %w", f, err)
	}
	fs.mu.Lock()
	fs.active[f] = reason
	fs.mu.Unlock()
	return nil
}

func (fs *faultSet) clear(ctx context.Context, f fault) error {
	mine, err := fs.holds(ctx, f)
	if err != nil {
		return fmt.Errorf("restore %s: %w", f, err)
	}
	if !mine {
		// Someone else has set or cleared it since: theirs stays.
		fs.mu.Lock()
		delete(fs.active, f)
		fs.mu.Unlock()
		return nil
	}
	if f.id != "" {
		_, err = fs.ctl.SetEndpointOverride(ctx, f.service, f.id, "", "", fs.actor, 0)
	} else {
		_, err = fs.ctl.SetPoolOverride(ctx, f.service, f.pool, "", "", 0, control.ServiceWriteOptions{Actor: fs.actor})
	}
	if err != nil {
		return fmt.Errorf("restore %s: %w", f, err)
	}
	fs.mu.Lock()
	delete(fs.active, f)
	fs.mu.Unlock()
	return nil
}

// holds reports whether the override on f is still the drill's.
func (fs *faultSet) holds(ctx context.Context, f fault) (bool, error) {
	var o *model.Override
	if f.id != "" {
		eps, err := fs.ctl.Endpoints(ctx, f.service)
		if err != nil {
			return false, err
		}
		for _, e := range eps {
			if e.ID == f.id {
				o = e.Override
			}
		}
	} else {
		svc, err := fs.ctl.GetService(ctx, f.service)
		if err != nil {
			return false, err
		}
		if p := svc.Pool(f.pool); p != nil {
			o = p.Override
		}
	}
	// Through the API the actor is the token's name with what for:
	// "alice (drill:NAME)".
	mine := o != nil && (o.Actor == fs.actor || strings.HasSuffix(o.Actor, "("+fs.actor+")"))
	return mine && o.State != "", nil
}

// renew sets every active override again, with a fresh lease.
func (fs *faultSet) renew(ctx context.Context) error {
	fs.mu.Lock()
	active := make(map[fault]string, len(fs.active))
	for f, r := range fs.active {
		active[f] = r
	}
	fs.mu.Unlock()
	for f, r := range active {
		if err := fs.set(ctx, f, r); err != nil {
			return err
		}
	}
	return nil
}

// clearAll restores everything still down; it goes on past errors and
// returns the first.
func (fs *faultSet) clearAll(ctx context.Context) error {
	fs.mu.Lock()
	var all []fault
	for f := range fs.active {
		all = append(all, f)
	}
	fs.mu.Unlock()
	var first error
	for _, f := range all {
		if err := fs.clear(ctx, f); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// isAddress reports whether s is an IP address.
func isAddress(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}
