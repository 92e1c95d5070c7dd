package api

import (
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/stratusdns/stratus/internal/auth"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/steer"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

// endpointOut renders one endpoint (endpointsOut).
func (h *Handler) endpointOut(e *model.Endpoint, p *auth.Principal) apiv1.Endpoint {
	return h.endpointsOut(e.Service, []*model.Endpoint{e}, p)[0]
}

// endpointsOut renders endpoints of the service svc with what the checks
// and steering say of them. A caller that may not read services (a
// function's endpoints:write token) sees its registration only: health
// details and overrides describe the operator's side.
func (h *Handler) endpointsOut(svc model.Name, eps []*model.Endpoint, p *auth.Principal) []apiv1.Endpoint {
	out := make([]apiv1.Endpoint, 0, len(eps))
	if !p.Allows(auth.ScopeServicesRead) || h.opts.Steering == nil {
		for _, e := range eps {
			je := endpointJSON(e, nil)
			if !p.Allows(auth.ScopeServicesRead) {
				je.Override = nil
			}
			out = append(out, je)
		}
		return out
	}
	for _, e := range eps {
		var je apiv1.Endpoint
		if st, ok := h.opts.Steering.Status(e.Service, e.ID); ok {
			je = endpointJSON(e, &st)
		} else {
			je = endpointJSON(e, nil)
		}
		if v, a, ok := h.opts.Steering.EndpointState(svc, e.ID); ok {
			je.Steering = &apiv1.EndpointSteering{Answerable: v.Answerable, Why: v.Why, Answered: a.State, AnsweredWhy: a.Why}
		}
		out = append(out, je)
	}
	return out
}

func (h *Handler) listEndpoints(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	n, err := serviceParam(r)
	if err != nil {
		return err
	}
	eps, err := h.ctl.Endpoints.Endpoints(r.Context(), n)
	if err != nil {
		return err
	}
	if len(p.Bindings.Pools) > 0 {
		// A token bound to pools lists their endpoints only.
		eps = slices.DeleteFunc(eps, func(e *model.Endpoint) bool { return p.Pool(e.Pool) != nil })
	}
	writeJSON(w, http.StatusOK, apiv1.EndpointList{Service: string(n), Endpoints: h.endpointsOut(n, eps, p)})
	return nil
}

// registerEndpoint creates or replaces an endpoint (POST with the id in
// the body, or PUT with the id in the path); registering again renews.
func (h *Handler) registerEndpoint(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	n, err := serviceParam(r)
	if err != nil {
		return err
	}
	var req apiv1.Endpoint
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if id := r.PathValue("id"); id != "" {
		if req.ID != "" && req.ID != id {
			return invalid("id", "%q does not match the endpoint in the path, %q", req.ID, id)
		}
		req.ID = id
	}
	m, err := endpointModel(&req)
	if err != nil {
		return err
	}
	if err := p.Pool(m.Pool); err != nil {
		return err
	}
	// Nor may it take an endpoint out of another pool.
	if err := h.inBoundPools(r, p, n, m.ID, true); err != nil {
		return err
	}
	e, created, err := h.ctl.Endpoints.RegisterEndpoint(r.Context(), n, m, p.Name)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		w.Header().Set("Location", "/v1/services/"+apiv1.PathSegment(string(n))+"/endpoints/"+apiv1.PathSegment(e.ID))
	}
	writeJSON(w, status, h.endpointOut(e, p))
	return nil
}

func (h *Handler) getEndpoint(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	n, err := serviceParam(r)
	if err != nil {
		return err
	}
	e, err := h.ctl.Endpoints.Endpoint(r.Context(), n, r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := endpointPool(p, e); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, h.endpointOut(e, p))
	return nil
}

func (h *Handler) deleteEndpoint(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	n, err := serviceParam(r)
	if err != nil {
		return err
	}
	if err := h.inBoundPools(r, p, n, r.PathValue("id"), false); err != nil {
		return err
	}
	if err := h.ctl.Endpoints.DeregisterEndpoint(r.Context(), n, r.PathValue("id"), p.Name); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// renewEndpoint is the heartbeat of a registered endpoint.
func (h *Handler) renewEndpoint(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	n, err := serviceParam(r)
	if err != nil {
		return err
	}
	if err := h.inBoundPools(r, p, n, r.PathValue("id"), false); err != nil {
		return err
	}
	e, err := h.ctl.Endpoints.RenewEndpoint(r.Context(), n, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, h.endpointOut(e, p))
	return nil
}

// pushHealth takes an endpoint's own report of its health (push checks).
func (h *Handler) pushHealth(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	n, err := serviceParam(r)
	if err != nil {
		return err
	}
	var req apiv1.HealthReport
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Reason, err = model.CleanText("reason", req.Reason, model.MaxReasonLen); err != nil {
		return err
	}
	id := r.PathValue("id")
	ep, err := h.ctl.Endpoints.PushEndpoint(r.Context(), n, id)
	if err != nil {
		return err
	}
	if err := endpointPool(p, ep); err != nil {
		return err
	}
	if h.opts.Health == nil || h.opts.Steering == nil {
		return errorf(http.StatusServiceUnavailable, apiv1.CodeUnavailable, "health checking is not running")
	}
	key := steer.Key(n, id)
	if err := h.opts.Health.Push(key, req.Up, req.Reason); err != nil {
		return errorf(http.StatusServiceUnavailable, apiv1.CodeUnavailable, "the report was not taken: %v; retry", err)
	}
	// Served before the answer: the next query sees the report. Only the
	// service of this endpoint is compiled again.
	h.opts.Steering.HealthChanged(r.Context(), []string{key})
	writeJSON(w, http.StatusOK, h.endpointOut(ep, p))
	return nil
}

func (h *Handler) setEndpointOverride(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	return h.endpointOverride(w, r, p, true)
}

func (h *Handler) clearEndpointOverride(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	return h.endpointOverride(w, r, p, false)
}

func (h *Handler) endpointOverride(w http.ResponseWriter, r *http.Request, p *auth.Principal, set bool) error {
	n, err := serviceParam(r)
	if err != nil {
		return err
	}
	req, ttl, err := overrideRequest(w, r, set)
	if err != nil {
		return err
	}
	if err := h.inBoundPools(r, p, n, r.PathValue("id"), false); err != nil {
		return err
	}
	e, err := h.ctl.Endpoints.SetEndpointOverride(r.Context(), n, r.PathValue("id"), req.State, req.Reason, overrideActor(p.Name, req.For), ttl)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, h.endpointOut(e, p))
	return nil
}

func (h *Handler) setPoolOverride(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	return h.poolOverride(w, r, p, true)
}

func (h *Handler) clearPoolOverride(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	return h.poolOverride(w, r, p, false)
}

func (h *Handler) poolOverride(w http.ResponseWriter, r *http.Request, p *auth.Principal, set bool) error {
	n, wo, err := serviceWriteParams(r, p)
	if err != nil {
		return err
	}
	req, ttl, err := overrideRequest(w, r, set)
	if err != nil {
		return err
	}
	wo.Actor = overrideActor(wo.Actor, req.For)
	s, err := h.ctl.Services.SetPoolOverride(r.Context(), n, r.PathValue("pool"), req.State, req.Reason, ttl, wo)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", versionTag(s.Version))
	writeJSON(w, http.StatusOK, serviceJSON(s))
	return nil
}

// overrideActor is who an override is recorded as set by: the token's
// name, and what for when the request says ("alice (drill:eu)").
func overrideActor(token, what string) string {
	if what == "" {
		return token
	}
	return token + " (" + what + ")"
}

// overrideRequest reads the body of a request setting an override (or,
// when clearing one, what for) and its time limit.
func overrideRequest(w http.ResponseWriter, r *http.Request, set bool) (apiv1.OverrideRequest, time.Duration, error) {
	var req apiv1.OverrideRequest
	var err error
	if !set {
		req.For, err = model.CleanText("for", r.URL.Query().Get("for"), model.MaxActorLen)
		return req, 0, err
	}
	if err := decodeJSON(w, r, &req); err != nil {
		return req, 0, err
	}
	if req.Reason, err = model.CleanText("reason", req.Reason, model.MaxReasonLen); err != nil {
		return req, 0, err
	}
	if req.For, err = model.CleanText("for", req.For, model.MaxActorLen); err != nil {
		return req, 0, err
	}
	if req.State != "up" && req.State != "down" {
		return req, 0, invalid("state", "%q is not up or down", req.State)
	}
	var ttl time.Duration
	if len(req.TTL) > maxDurationLen {
		return req, 0, invalid("ttl", "is %d bytes long; a duration such as 30s or 1h is at most %d", len(req.TTL), maxDurationLen)
	}
	if req.TTL != "" {
		if ttl, err = time.ParseDuration(req.TTL); err != nil || ttl <= 0 {
			return req, 0, invalid("ttl", "%q is not a duration such as 30s or 1h", req.TTL)
		}
	}
	return req, ttl, nil
}

// inBoundPools refuses a token bound to pools (auth.Bindings) a request on
// endpoint id of service svc when the endpoint is stored in a pool
// outside them. A missing endpoint is the handler's to report, or, with
// mayBeNew (a registration), no refusal.
func (h *Handler) inBoundPools(r *http.Request, p *auth.Principal, svc model.Name, id string, mayBeNew bool) error {
	if len(p.Bindings.Pools) == 0 {
		return nil
	}
	e, err := h.ctl.Endpoints.Endpoint(r.Context(), svc, id)
	if mayBeNew && errors.Is(err, control.ErrEndpointNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return endpointPool(p, e)
}

// endpointPool refuses endpoint e to a token bound to other pools.
func endpointPool(p *auth.Principal, e *model.Endpoint) error {
	err := p.Pool(e.Pool)
	if be, ok := err.(*auth.BindingError); ok {
		be.Object += " (endpoint " + e.ID + ")"
	}
	return err
}
