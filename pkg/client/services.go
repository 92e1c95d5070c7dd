package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/stratusdns/stratus/pkg/apiv1"
)

func servicePath(name string) string { return "/v1/services/" + apiv1.PathSegment(name) }

// Services lists every steered service.
func (c *Client) Services(ctx context.Context) ([]apiv1.Service, error) {
	var out apiv1.ServiceList
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/services"}, &out)
	return out.Services, err
}

// Service returns one service.
func (c *Client) Service(ctx context.Context, name string) (apiv1.Service, error) {
	var out apiv1.Service
	_, err := c.do(ctx, request{method: http.MethodGet, path: servicePath(name)}, &out)
	return out, err
}

// CreateService creates a service.
func (c *Client) CreateService(ctx context.Context, s apiv1.Service) (apiv1.Service, error) {
	var out apiv1.Service
	_, err := c.do(ctx, request{method: http.MethodPost, path: "/v1/services", json: s}, &out)
	return out, err
}

// UpdateService replaces a service's definition; ifMatch is its version.
func (c *Client) UpdateService(ctx context.Context, s apiv1.Service, ifMatch *uint64) (apiv1.Service, error) {
	var out apiv1.Service
	_, err := c.do(ctx, request{method: http.MethodPut, path: servicePath(s.Name), json: s, ifMatch: ifMatch}, &out)
	return out, err
}

// DeleteService deletes a service and its endpoints.
func (c *Client) DeleteService(ctx context.Context, name string, ifMatch *uint64) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, path: servicePath(name), ifMatch: ifMatch}, nil)
	return err
}

// Explain returns the answer a client (and subnet) gets, and why.
func (c *Client) Explain(ctx context.Context, name, client, subnet, qtype string) (apiv1.Explanation, error) {
	return c.ExplainIf(ctx, name, client, subnet, qtype, nil, nil)
}

// ExplainIf is Explain as if the pools and endpoints named were down;
// nothing is changed.
func (c *Client) ExplainIf(ctx context.Context, name, client, subnet, qtype string, downPools, downEndpoints []string) (apiv1.Explanation, error) {
	q := url.Values{}
	if len(downPools) > 0 {
		q["down_pool"] = downPools
	}
	if len(downEndpoints) > 0 {
		q["down_endpoint"] = downEndpoints
	}
	for k, v := range map[string]string{"client": client, "subnet": subnet, "type": qtype} {
		if v != "" {
			q.Set(k, v)
		}
	}
	var out apiv1.Explanation
	_, err := c.do(ctx, request{method: http.MethodGet, path: servicePath(name) + "/evaluate", query: q}, &out)
	return out, err
}

// SetPoolOverride forces a pool "up" or "down" (for ttl, when not zero);
// state "" clears it.
func (c *Client) SetPoolOverride(ctx context.Context, name, pool, state, reason string, ttl time.Duration) (apiv1.Service, error) {
	return c.SetPoolOverrideFor(ctx, name, pool, state, reason, ttl, "")
}

// SetPoolOverrideFor is SetPoolOverride recording what the override is
// for ("drill:NAME").
func (c *Client) SetPoolOverrideFor(ctx context.Context, name, pool, state, reason string, ttl time.Duration, what string) (apiv1.Service, error) {
	req := overrideRequest(servicePath(name)+"/pools/"+apiv1.PathSegment(pool)+"/override", state, reason, ttl, what)
	var out apiv1.Service
	_, err := c.do(ctx, req, &out)
	return out, err
}

// Endpoints lists a service's endpoints with their health.
func (c *Client) Endpoints(ctx context.Context, name string) ([]apiv1.Endpoint, error) {
	var out apiv1.EndpointList
	_, err := c.do(ctx, request{method: http.MethodGet, path: servicePath(name) + "/endpoints"}, &out)
	return out.Endpoints, err
}

// RegisterEndpoint registers (or registers again) an endpoint.
func (c *Client) RegisterEndpoint(ctx context.Context, name string, e apiv1.Endpoint) (apiv1.Endpoint, error) {
	var out apiv1.Endpoint
	_, err := c.do(ctx, request{method: http.MethodPut, path: endpointPath(name, e.ID), json: e}, &out)
	return out, err
}

// RenewEndpoint renews an endpoint's lease.
func (c *Client) RenewEndpoint(ctx context.Context, name, id string) (apiv1.Endpoint, error) {
	var out apiv1.Endpoint
	_, err := c.do(ctx, request{method: http.MethodPost, path: endpointPath(name, id) + "/renew"}, &out)
	return out, err
}

// DeregisterEndpoint removes an endpoint.
func (c *Client) DeregisterEndpoint(ctx context.Context, name, id string) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, path: endpointPath(name, id)}, nil)
	return err
}

// ReportHealth pushes an endpoint's own health report.
func (c *Client) ReportHealth(ctx context.Context, name, id string, up bool, reason string) (apiv1.Endpoint, error) {
	var out apiv1.Endpoint
	_, err := c.do(ctx, request{method: http.MethodPost, path: endpointPath(name, id) + "/health", json: apiv1.HealthReport{Up: up, Reason: reason}}, &out)
	return out, err
}

// SetEndpointOverride forces an endpoint "up" or "down" (for ttl, when
// not zero); "" clears it.
func (c *Client) SetEndpointOverride(ctx context.Context, name, id, state, reason string, ttl time.Duration) (apiv1.Endpoint, error) {
	return c.SetEndpointOverrideFor(ctx, name, id, state, reason, ttl, "")
}

// SetEndpointOverrideFor is SetEndpointOverride recording what the
// override is for ("drill:NAME").
func (c *Client) SetEndpointOverrideFor(ctx context.Context, name, id, state, reason string, ttl time.Duration, what string) (apiv1.Endpoint, error) {
	req := overrideRequest(endpointPath(name, id)+"/override", state, reason, ttl, what)
	var out apiv1.Endpoint
	_, err := c.do(ctx, req, &out)
	return out, err
}

// Events returns health events after sequence number after.
func (c *Client) Events(ctx context.Context, service string, after uint64, limit int) ([]apiv1.Event, error) {
	q := url.Values{}
	if service != "" {
		q.Set("service", service)
	}
	if after > 0 {
		q.Set("after", strconv.FormatUint(after, 10))
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var out apiv1.EventList
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/events", query: q}, &out)
	return out.Events, err
}

func endpointPath(service, id string) string {
	return servicePath(service) + "/endpoints/" + apiv1.PathSegment(id)
}

// overrideRequest sets an override at path (PUT), or clears it (DELETE)
// when state is "".
func overrideRequest(path, state, reason string, ttl time.Duration, what string) request {
	if state == "" {
		req := request{method: http.MethodDelete, path: path}
		if what != "" {
			req.query = url.Values{"for": {what}}
		}
		return req
	}
	body := apiv1.OverrideRequest{State: state, Reason: reason, For: what}
	if ttl > 0 {
		body.TTL = ttl.String()
	}
	return request{method: http.MethodPut, path: path, json: body}
}
