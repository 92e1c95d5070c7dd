package publish

import (
	"strings"

	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/schema"
	"github.com/stratusdns/stratus/internal/store"
	"github.com/stratusdns/stratus/internal/zone"
)

// ServiceSink receives the services and endpoints the publisher reads from
// the store (internal/steerctl implements it). Both methods are called on
// the publisher's goroutine before the zone snapshot of the same revision
// is published, so a steered name is never served before its service is
// known; they must apply the change before returning.
type ServiceSink interface {
	// ResetServices replaces every service and endpoint (a full load).
	ResetServices(svcs []*model.Service, eps []*model.Endpoint)
	// UpdateServices applies the changes of one revision.
	UpdateServices(u ServiceUpdate)
}

// ServiceUpdate is what changed in services and endpoints in one revision.
type ServiceUpdate struct {
	Services         []*model.Service // created or changed
	DeletedServices  []model.Name
	Endpoints        []*model.Endpoint // created or changed
	DeletedEndpoints []EndpointRef
}

// EndpointRef names an endpoint.
type EndpointRef struct {
	Service model.Name
	ID      string
}

// Empty reports whether the update changes nothing.
func (u *ServiceUpdate) Empty() bool {
	return len(u.Services)+len(u.DeletedServices)+len(u.Endpoints)+len(u.DeletedEndpoints) == 0
}

// SetServiceSink sets where services and endpoints go. Call it before Run.
func (p *Publisher) SetServiceSink(s ServiceSink) { p.sink = s }

// loadServices reads every service and endpoint into the sink and marks
// the services' names as steered in b. A record that cannot be read is
// logged and left out of what the sink gets; a service's name is taken
// from its key, so a service whose record cannot be read stays steered,
// as apply leaves it.
func (p *Publisher) loadServices(tx store.ReadTx, b *zone.Builder) error {
	p.serviceNames = map[model.Name]bool{}
	svcs, err := schema.ScanServices(tx, func(key string, err error) error {
		schema.Skip(p.log, key, err)
		if n, ok := schema.ParseServiceKey(key); ok {
			p.serviceNames[n] = true
		}
		return nil
	})
	if err != nil {
		return err
	}
	eps, err := schema.ScanEndpoints(tx, "", schema.SkipTo(p.log))
	if err != nil {
		return err
	}
	for _, s := range svcs {
		p.serviceNames[s.Name] = true // DecodeService checked it is its key's
	}
	for n := range p.serviceNames {
		p.markSteered(b, n, true)
	}
	if p.sink != nil {
		p.sink.ResetServices(svcs, eps)
	}
	return nil
}

// serviceChanges gathers the final state of every service and endpoint
// changed in a run of revisions (nil: deleted).
type serviceChanges struct {
	services  map[model.Name]*model.Service
	endpoints map[EndpointRef]*model.Endpoint
}

func newServiceChanges() *serviceChanges {
	return &serviceChanges{services: map[model.Name]*model.Service{}, endpoints: map[EndpointRef]*model.Endpoint{}}
}

// update turns the gathered changes into one ServiceUpdate.
func (c *serviceChanges) update() ServiceUpdate {
	var u ServiceUpdate
	for n, s := range c.services {
		if s == nil {
			u.DeletedServices = append(u.DeletedServices, n)
		} else {
			u.Services = append(u.Services, s)
		}
	}
	for r, e := range c.endpoints {
		if e == nil {
			u.DeletedEndpoints = append(u.DeletedEndpoints, r)
		} else {
			u.Endpoints = append(u.Endpoints, e)
		}
	}
	return u
}

// serviceEvent applies one store event about a service or endpoint to c
// and b; it reports whether the key was one. A key or value that cannot
// be read is logged and left out of what the sink gets; a service's name
// is taken from its key, so that it is steered whether or not its value
// can be read, as in a full load.
func (p *Publisher) serviceEvent(ev store.Event, c *serviceChanges, b *zone.Builder) bool {
	switch {
	case strings.HasPrefix(ev.Key, schema.PrefixServices):
		n, ok := schema.ParseServiceKey(ev.Key)
		if !ok {
			schema.Skip(p.log, ev.Key, schema.BadKey(ev.Key))
			return true
		}
		if ev.Deleted {
			c.services[n] = nil
			delete(p.serviceNames, n)
			p.markSteered(b, n, false)
			return true
		}
		p.serviceNames[n] = true
		p.markSteered(b, n, true)
		s, err := schema.DecodeService(ev.Key, ev.Value)
		if err != nil {
			schema.Skip(p.log, ev.Key, err)
			return true
		}
		c.services[n] = s // DecodeService checked that s.Name is n
		return true
	case strings.HasPrefix(ev.Key, schema.PrefixEndpoints):
		svc, id, ok := schema.ParseEndpointKey(ev.Key)
		if !ok {
			schema.Skip(p.log, ev.Key, schema.BadKey(ev.Key))
			return true
		}
		ref := EndpointRef{Service: svc, ID: id}
		if ev.Deleted {
			c.endpoints[ref] = nil
			return true
		}
		e, err := schema.DecodeEndpoint(ev.Key, ev.Value)
		if err != nil {
			schema.Skip(p.log, ev.Key, err)
			return true
		}
		c.endpoints[ref] = e
		return true
	}
	return false
}

// markSteered sets or clears the steered mark of a name in the deepest
// zone of b that holds it.
func (p *Publisher) markSteered(b *zone.Builder, name model.Name, on bool) {
	for n := name; ; n = n.Parent() {
		if w := n.Wire(); b.HasZone(w) {
			if err := b.SetSteered(w, name.Wire(), on); err != nil {
				p.log.Error("cannot mark a steered name", "name", name, "err", err)
			}
			return
		}
		if n == model.Root {
			return
		}
	}
}

// markZoneServices marks the services inside a newly created zone, which
// now answers for them.
func (p *Publisher) markZoneServices(b *zone.Builder, z model.Name) {
	for n := range p.serviceNames {
		if n.IsSubdomainOf(z) {
			p.markSteered(b, n, true)
		}
	}
}
