package api

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/stratusdns/stratus/internal/auth"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

// bound refuses a request of a bound token (auth.Bindings) on an object
// its path names outside its bindings: the {zone}, {service} and {pool}
// segments, a write of a whole service by a token bound to pools, the
// evaluation of a service's answers by a token bound to pools (it shows
// every pool's endpoints), and the drills of a token bound to services
// or pools. What the path does
// not name is checked by the handlers: the name in a create's body
// (createZone, createService), an endpoint's pool (endpoints.go), and
// the lists, which leave out what the token is not bound to.
func (h *Handler) bound(rt route, r *http.Request, p *auth.Principal) error {
	if p.Bindings.Empty() {
		return nil
	}
	if z := r.PathValue("zone"); z != "" {
		n, err := zoneParam(r)
		if err != nil {
			return err
		}
		if err := p.Zone(string(n)); err != nil {
			return err
		}
	}
	if s := r.PathValue("service"); s != "" {
		n, err := serviceParam(r)
		if err != nil {
			return err
		}
		if rt.pattern == "/v1/services/{service}" && rt.method != http.MethodGet {
			if err := p.WholeService(string(n)); err != nil {
				return err
			}
		} else if err := p.Service(string(n)); err != nil {
			return err
		}
	}
	if pool := r.PathValue("pool"); pool != "" {
		if err := p.Pool(pool); err != nil {
			return err
		}
	}
	if rt.pattern == "/v1/services/{service}/evaluate" && len(p.Bindings.Pools) > 0 {
		return &auth.BindingError{Token: p.Name, Kind: auth.BindPool, Bound: p.Bindings.Pools, Action: "evaluate a service's answers, which show the endpoints of its other pools"}
	}
	if strings.HasPrefix(rt.pattern, "/v1/drill") {
		for _, kind := range []string{auth.BindService, auth.BindPool} {
			if l := bindingList(p.Bindings, kind); len(l) > 0 {
				return &auth.BindingError{Token: p.Name, Kind: kind, Bound: l, Action: "run or read drills, which act across services"}
			}
		}
	}
	return nil
}

func bindingList(b auth.Bindings, kind string) []string {
	if kind == auth.BindService {
		return b.Services
	}
	return b.Pools
}

// boundName refuses name (as a request body gives it) when check does;
// a name that does not parse is left to the handler's own validation.
func boundName(name string, check func(string) error) error {
	n, err := model.ParseName(name)
	if err != nil {
		return nil
	}
	return check(string(n))
}

// eventFilter decides which events a bound token sees in GET /v1/events:
//
//   - bound to services: only the events of those services (none about
//     nodes or DNS anomalies);
//   - bound to pools: of a service's events only those of endpoints in
//     these pools (as the endpoints are now: an endpoint no longer
//     registered is not shown) and of these pools' overrides;
//   - bound to zones: of the DNS anomalies only those about these zones
//     (a flood against the zone, a spike of a name in it; a name in no
//     zone, or one the anomaly detector did not keep, is not shown).
//
// It reads the endpoints and zones it needs once a request.
type eventFilter struct {
	h   *Handler
	ctx context.Context
	p   *auth.Principal
	// pools maps a service to its endpoints' pools (endpoint id: pool).
	pools map[string]map[string]string
	zones []model.Name // nil: not read yet
}

func (h *Handler) newEventFilter(ctx context.Context, p *auth.Principal) *eventFilter {
	return &eventFilter{h: h, ctx: ctx, p: p}
}

// shows reports whether the token sees ev.
func (f *eventFilter) shows(ev apiv1.Event) (bool, error) {
	b := f.p.Bindings
	if len(b.Services) > 0 && f.p.Service(ev.Service) != nil {
		return false, nil
	}
	if len(b.Pools) > 0 && ev.Service != "" {
		pool := ev.Pool
		if pool == "" {
			var err error
			if pool, err = f.endpointPool(ev.Service, ev.Endpoint); err != nil {
				return false, err
			}
		}
		if pool == "" || f.p.Pool(pool) != nil {
			return false, nil
		}
	}
	if len(b.Zones) > 0 && (ev.Zone != "" || ev.Name != "") {
		zone, err := f.anomalyZone(ev)
		if err != nil {
			return false, err
		}
		if zone == "" || f.p.Zone(string(zone)) != nil {
			return false, nil
		}
	}
	return true, nil
}

// endpointPool returns the pool endpoint id of service is in now, or ""
// when it is not registered.
func (f *eventFilter) endpointPool(service, id string) (string, error) {
	if f.pools == nil {
		f.pools = map[string]map[string]string{}
	}
	m, ok := f.pools[service]
	if !ok {
		m = map[string]string{}
		if n, err := model.ParseName(service); err == nil {
			eps, err := f.h.ctl.Endpoints.Endpoints(f.ctx, n)
			if err != nil && !errors.Is(err, control.ErrServiceNotFound) {
				return "", err
			}
			for _, e := range eps {
				m[e.ID] = e.Pool
			}
		}
		f.pools[service] = m
	}
	return m[id], nil
}

// anomalyZone returns the zone an anomaly event is about: the flooded
// zone, or the zone a spiking name is in (the longest zone it is in), or
// "" when there is none.
func (f *eventFilter) anomalyZone(ev apiv1.Event) (model.Name, error) {
	if ev.Zone != "" {
		z, err := model.ParseName(ev.Zone)
		if err != nil {
			return "", nil
		}
		return z, nil
	}
	name, err := model.ParseName(ev.Name)
	if err != nil {
		return "", nil // a name the detector did not keep ("hash-...")
	}
	if f.zones == nil {
		zs, err := f.h.ctl.Zones.ListZones(f.ctx)
		if err != nil {
			return "", err
		}
		f.zones = make([]model.Name, 0, len(zs))
		for _, z := range zs {
			f.zones = append(f.zones, z.Name)
		}
	}
	var in model.Name
	for _, z := range f.zones {
		if name.IsSubdomainOf(z) && len(z) > len(in) {
			in = z
		}
	}
	return in, nil
}
