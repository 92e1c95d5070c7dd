package api

import (
	"context"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/stratusdns/stratus/internal/auth"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/health"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/steer"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

// SteeringView is what the API reads from the steering controller.
type SteeringView interface {
	Explain(name model.Name, qtype uint16, client netip.Addr, subnet netip.Prefix) (*steer.Explanation, bool)
	// ExplainIf explains the answer were some pools and endpoints down.
	ExplainIf(name model.Name, qtype uint16, client netip.Addr, subnet netip.Prefix, h steer.Hypothesis) (*steer.Explanation, bool)
	Status(svc model.Name, id string) (health.Status, bool)
	// EndpointState returns what answers make of one endpoint of a
	// service and whether the answers to a client with no location
	// include it; false when steering does not know the endpoint. It
	// evaluates the service once per compilation, not per call.
	EndpointState(svc model.Name, id string) (steer.Verdict, steer.Answered, bool)
	// HealthChanged recompiles, from the current health, the services
	// that check the targets with these keys; ctx carries the request's
	// trace.
	HealthChanged(ctx context.Context, keys []string)
}

// HealthView is what the API uses of the health checker.
type HealthView interface {
	Events(after uint64, limit int) []health.Event
	Push(key string, up bool, reason string) error
}

// StoredEvents is implemented by a HealthView whose events are kept in
// the store: EventsStored is the sequence number of the newest one kept.
type StoredEvents interface {
	EventsStored() uint64
}

// serviceParam parses the {service} path segment.
func serviceParam(r *http.Request) (model.Name, error) {
	n, err := model.ParseName(r.PathValue("service"))
	if err != nil {
		return "", invalid("service", "%v", err)
	}
	return n, nil
}

// serviceWriteParams parses what every write to one service takes: the
// {service} path segment, and If-Match (the version) and the actor as
// write options.
func serviceWriteParams(r *http.Request, p *auth.Principal) (model.Name, control.ServiceWriteOptions, error) {
	n, err := serviceParam(r)
	if err != nil {
		return "", control.ServiceWriteOptions{}, err
	}
	im, err := versionMatch(r)
	return n, control.ServiceWriteOptions{IfMatch: im, Actor: p.Name}, err
}

// versionMatch parses If-Match for services: the version.
func versionMatch(r *http.Request) (*uint64, error) {
	v, err := ifMatch(r)
	if err != nil || v == nil {
		return nil, err
	}
	n := uint64(*v)
	return &n, nil
}

func versionTag(v uint64) string { return `"` + strconv.FormatUint(v, 10) + `"` }

func (h *Handler) listServices(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	svcs, err := h.ctl.Services.ListServices(r.Context())
	if err != nil {
		return err
	}
	out := apiv1.ServiceList{Services: []apiv1.Service{}}
	for _, s := range svcs {
		if p.Service(string(s.Name)) != nil {
			continue // a bound token lists its services only
		}
		out.Services = append(out.Services, serviceJSON(s))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (h *Handler) getService(w http.ResponseWriter, r *http.Request, _ *auth.Principal) error {
	n, err := serviceParam(r)
	if err != nil {
		return err
	}
	s, err := h.ctl.Services.GetService(r.Context(), n)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", versionTag(s.Version))
	writeJSON(w, http.StatusOK, serviceJSON(s))
	return nil
}

func (h *Handler) createService(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	var req apiv1.Service
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := boundName(req.Name, p.WholeService); err != nil {
		return err
	}
	m, err := serviceModel(&req)
	if err != nil {
		return err
	}
	s, err := h.ctl.Services.CreateService(r.Context(), m, control.ServiceWriteOptions{Actor: p.Name})
	if err != nil {
		return err
	}
	w.Header().Set("ETag", versionTag(s.Version))
	w.Header().Set("Location", "/v1/services/"+apiv1.PathSegment(string(s.Name)))
	writeJSON(w, http.StatusCreated, serviceJSON(s))
	return nil
}

func (h *Handler) putService(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	n, wo, err := serviceWriteParams(r, p)
	if err != nil {
		return err
	}
	var req apiv1.Service
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Name == "" {
		req.Name = string(n)
	}
	m, err := serviceModel(&req)
	if err != nil {
		return err
	}
	if m.Name != n {
		return invalid("name", "%s does not match the service in the path, %s", m.Name, n)
	}
	s, err := h.ctl.Services.UpdateService(r.Context(), m, wo)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", versionTag(s.Version))
	writeJSON(w, http.StatusOK, serviceJSON(s))
	return nil
}

func (h *Handler) deleteService(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	n, wo, err := serviceWriteParams(r, p)
	if err != nil {
		return err
	}
	if err := h.ctl.Services.DeleteService(r.Context(), n, wo); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// evaluate answers as a query from client (and subnet) would be answered,
// with the reasons.
func (h *Handler) evaluate(w http.ResponseWriter, r *http.Request, _ *auth.Principal) error {
	n, err := serviceParam(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	client := netip.IPv4Unspecified()
	var subnet netip.Prefix
	qtype := model.TypeA
	var hyp steer.Hypothesis
	for key := range q {
		v := q.Get(key)
		switch key {
		case "down_pool":
			hyp.DownPools = q[key]
		case "down_endpoint":
			hyp.DownEndpoints = q[key]
		case "client":
			if client, err = netip.ParseAddr(v); err != nil {
				return invalid("client", "%q is not an IP address", v)
			}
		case "subnet":
			if subnet, err = netip.ParsePrefix(v); err != nil {
				return invalid("subnet", "%q is not a network such as 198.51.100.0/24", v)
			}
		case "type":
			if qtype, err = model.ParseType(v); err != nil {
				return invalid("type", "%v", err)
			}
			if qtype != model.TypeA && qtype != model.TypeAAAA && qtype != model.TypeCNAME {
				return invalid("type", "steered names answer A, AAAA and CNAME, not %s", v)
			}
		default:
			return invalid(key, "unknown query parameter %q (known: client, subnet, type, down_pool, down_endpoint)", key)
		}
	}
	spec, err := h.ctl.Services.GetService(r.Context(), n)
	if err != nil {
		return err
	}
	for _, p := range hyp.DownPools {
		if spec.Pool(p) == nil {
			return invalid("down_pool", "service %s has no pool %q", n, p)
		}
	}
	if len(hyp.DownEndpoints) > 0 {
		eps, err := h.ctl.Endpoints.Endpoints(r.Context(), n)
		if err != nil {
			return err
		}
		for _, id := range hyp.DownEndpoints {
			if !slices.ContainsFunc(eps, func(e *model.Endpoint) bool { return e.ID == id }) {
				return invalid("down_endpoint", "service %s has no endpoint %q", n, id)
			}
		}
	}
	if h.opts.Steering == nil {
		return errorf(http.StatusServiceUnavailable, apiv1.CodeUnavailable, "steering is not running")
	}
	var x *steer.Explanation
	var ok bool
	if len(hyp.DownPools)+len(hyp.DownEndpoints) > 0 {
		x, ok = h.opts.Steering.ExplainIf(n, qtype, client.Unmap(), subnet, hyp)
	} else {
		x, ok = h.opts.Steering.Explain(n, qtype, client.Unmap(), subnet)
	}
	if !ok {
		return errorf(http.StatusServiceUnavailable, apiv1.CodeUnavailable, "service %s is not compiled yet; retry", n)
	}
	writeJSON(w, http.StatusOK, explanationJSON(x))
	return nil
}

func (h *Handler) events(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	q := r.URL.Query()
	var after uint64
	limit := 1000
	var service model.Name
	var err error
	for key := range q {
		v := q.Get(key)
		switch key {
		case "after":
			if after, err = strconv.ParseUint(v, 10, 64); err != nil {
				return invalid("after", "want an event sequence number, got %q", v)
			}
		case "limit":
			n, err := parseLimit(v, 10000)
			if err != nil {
				return err
			}
			limit = n
		case "service":
			if service, err = model.ParseName(v); err != nil {
				return invalid("service", "%v", err)
			}
		default:
			return invalid(key, "unknown query parameter %q (known: after, limit, service)", key)
		}
	}
	if service != "" {
		if err := p.Service(string(service)); err != nil {
			return err
		}
	}
	out := apiv1.EventList{Events: []apiv1.Event{}}
	if h.opts.Health == nil {
		writeJSON(w, http.StatusOK, out)
		return nil
	}
	if s, ok := h.opts.Health.(StoredEvents); ok {
		out.Stored = s.EventsStored()
	}
	take := 0 // all kept events: the filters below decide
	if service == "" && p.Bindings.Empty() {
		take = limit
	}
	filter := h.newEventFilter(r.Context(), p)
	for _, ev := range h.opts.Health.Events(after, take) {
		je := eventJSON(ev)
		if service != "" && je.Service != string(service) {
			continue
		}
		if !p.Bindings.Empty() {
			if ok, err := filter.shows(je); err != nil {
				return err
			} else if !ok {
				continue // a bound token sees its objects' events only
			}
		}
		out.Events = append(out.Events, je)
		if len(out.Events) == limit {
			break
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// eventJSON renders an event; its key is "<service>|<endpoint id>",
// "<service>|pool:<name>", "node:<node>", or for an anomaly on the DNS
// listeners "zone:<zone>" or "name:<name>".
func eventJSON(ev health.Event) apiv1.Event {
	out := apiv1.Event{Seq: ev.Seq, Time: ev.Time, Reason: ev.Reason, Actor: ev.Actor, Old: ev.Old.String(), New: ev.New.String()}
	if node, ok := strings.CutPrefix(ev.Key, "node:"); ok { // a node of a cluster: healthview
		out.Node, out.Old, out.New = node, "", ""
		return out
	}
	if zone, ok := strings.CutPrefix(ev.Key, "zone:"); ok { // dnsserver anomalies
		out.Zone, out.Old, out.New = zone, "", ""
		return out
	}
	if name, ok := strings.CutPrefix(ev.Key, "name:"); ok {
		out.Name, out.Old, out.New = name, "", ""
		return out
	}
	svc, rest, _ := strings.Cut(ev.Key, "|")
	out.Service = svc
	if pool, ok := strings.CutPrefix(rest, "pool:"); ok {
		out.Pool = pool
	} else {
		out.Endpoint = rest
	}
	if ev.Old == ev.New { // not a change of state: its reason says what it was
		out.Old, out.New = "", ""
	}
	return out
}
