package drill

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/stratusdns/stratus/internal/model"
)

// world is what the drill knows of the services under test.
type world struct {
	services map[model.Name]*Service
}

func loadWorld(ctx context.Context, pl Plane, s *Scenario) (*world, error) {
	w := &world{services: map[model.Name]*Service{}}
	for _, name := range s.Services {
		n, _ := model.ParseName(name) // checked by ParseScenario
		svc, err := pl.Service(ctx, n)
		if err != nil {
			return nil, fmt.Errorf("service %s: %w", n, err)
		}
		w.services[n] = svc
	}
	return w, nil
}

// endpoints returns what each endpoint id is answered as and where it
// belongs, for the evaluation.
func (w *world) endpointInfo() Endpoints {
	out := Endpoints{}
	for n, svc := range w.services {
		for _, e := range svc.Endpoints {
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
func (w *world) faults(t *Target) ([]Fault, error) {
	var out []Fault
	for n, svc := range w.services {
		if t.Service != "" {
			if sn, _ := model.ParseName(t.Service); sn != n {
				continue
			}
		}
		switch {
		case t.Endpoint != "":
			for _, e := range svc.Endpoints {
				if e.ID == t.Endpoint {
					out = append(out, Fault{Service: n, Endpoint: e.ID})
				}
			}
		default:
			for _, p := range svc.Pools {
				if (t.Pool != "" && p.Name == t.Pool) || (t.Region != "" && p.Region == t.Region) ||
					(t.Provider != "" && p.Provider == t.Provider) || (t.Jurisdiction != "" && p.Jurisdiction == t.Jurisdiction) {
					out = append(out, Fault{Service: n, Pool: p.Name})
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
func (w *world) stepFaults(s *Scenario) ([][]Fault, error) {
	out := make([][]Fault, len(s.Steps))
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
	pl     Plane
	actor  string
	lease  time.Duration
	mu     sync.Mutex
	active map[Fault]string // the reason each was set with
}

func newFaultSet(pl Plane, drill string, lease time.Duration) *faultSet {
	return &faultSet{pl: pl, actor: "drill:" + drill, lease: lease, active: map[Fault]string{}}
}

func (fs *faultSet) set(ctx context.Context, f Fault, reason string) error {
	// Counted before it is written: a write that reports an error (ctx
	// done while it waited) may have landed, and clear restores only an
	// override that is the drill's.
	fs.mu.Lock()
	fs.active[f] = reason
	fs.mu.Unlock()
	if err := fs.pl.SetFault(ctx, f, reason, fs.actor, fs.lease); err != nil {
		return fmt.Errorf("take down %s: %w", f, err)
	}
	return nil
}

func (fs *faultSet) clear(ctx context.Context, f Fault) error {
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
	if err := fs.pl.ClearFault(ctx, f, fs.actor); err != nil {
		return fmt.Errorf("restore %s: %w", f, err)
	}
	fs.mu.Lock()
	delete(fs.active, f)
	fs.mu.Unlock()
	return nil
}

// holds reports whether the override on f is still the drill's.
func (fs *faultSet) holds(ctx context.Context, f Fault) (bool, error) {
	svc, err := fs.pl.Service(ctx, f.Service)
	if err != nil {
		return false, err
	}
	var o Override
	if f.Endpoint != "" {
		for _, e := range svc.Endpoints {
			if e.ID == f.Endpoint {
				o = e.Override
			}
		}
	} else if p := svc.Pool(f.Pool); p != nil {
		o = p.Override
	}
	// Through the API the actor is the token's name with what for:
	// "alice (drill:NAME)".
	mine := o.Actor == fs.actor || strings.HasSuffix(o.Actor, "("+fs.actor+")")
	return mine && o.State != "", nil
}

// renew sets every active override again, with a fresh lease.
func (fs *faultSet) renew(ctx context.Context) error {
	fs.mu.Lock()
	active := make(map[Fault]string, len(fs.active))
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
	var all []Fault
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
