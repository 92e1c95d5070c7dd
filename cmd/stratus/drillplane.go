package main

import (
	"context"
	"strings"
	"time"

	"github.com/stratusdns/stratus/internal/drill"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

// apiDrillPlane is the control plane as a drill run from the CLI sees it:
// the API, through the client (drill.Plane, and drill.Evaluator for
// --dry-run).
type apiDrillPlane struct{ c *apiClient }

func (a apiDrillPlane) Service(ctx context.Context, name model.Name) (*drill.Service, error) {
	s, err := a.c.Service(ctx, string(name))
	if err != nil {
		return nil, err
	}
	eps, err := a.c.Endpoints(ctx, string(name))
	if err != nil {
		return nil, err
	}
	out := &drill.Service{Name: name}
	for _, p := range s.Pools {
		out.Pools = append(out.Pools, drill.Pool{Name: p.Name, Region: p.Region, Provider: p.Provider, Jurisdiction: p.Jurisdiction, Override: drillOverride(p.Override)})
	}
	for _, e := range eps {
		out.Endpoints = append(out.Endpoints, drill.Endpoint{ID: e.ID, Pool: e.Pool, Address: e.Address, Override: drillOverride(e.Override)})
	}
	return out, nil
}

// SetFault sets the override through the API. The API records it as the
// token's, for actor: "alice (drill:NAME)".
func (a apiDrillPlane) SetFault(ctx context.Context, f drill.Fault, reason, actor string, lease time.Duration) error {
	return a.override(ctx, f, "down", reason, actor, lease)
}

func (a apiDrillPlane) ClearFault(ctx context.Context, f drill.Fault, actor string) error {
	return a.override(ctx, f, "", "", actor, 0)
}

func (a apiDrillPlane) override(ctx context.Context, f drill.Fault, state, reason, actor string, lease time.Duration) error {
	var err error
	if f.Endpoint != "" {
		_, err = a.c.SetEndpointOverrideFor(ctx, string(f.Service), f.Endpoint, state, reason, lease, actor)
	} else {
		_, err = a.c.SetPoolOverrideFor(ctx, string(f.Service), f.Pool, state, reason, lease, actor)
	}
	return err
}

// Unanswerable lists the endpoints steering leaves out of the answers.
func (a apiDrillPlane) Unanswerable(ctx context.Context, svc model.Name) ([]string, error) {
	eps, err := a.c.Endpoints(ctx, string(svc))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range eps {
		if e.Steering != nil && !e.Steering.Answerable {
			out = append(out, e.ID+" ("+e.Steering.Why+")")
		}
	}
	return out, nil
}

// AnswerIf asks the server what a service would answer were some pools
// and endpoints down.
func (a apiDrillPlane) AnswerIf(ctx context.Context, svc model.Name, subnet string, downPools, downEndpoints []string) ([]string, error) {
	x, err := a.c.ExplainIf(ctx, string(svc), "", subnet, "A", downPools, downEndpoints)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, rr := range x.Answer {
		if f := strings.Fields(rr); len(f) == 2 {
			out = append(out, strings.ToLower(f[1]))
		}
	}
	return out, nil
}

func drillOverride(o *apiv1.Override) drill.Override {
	if o == nil {
		return drill.Override{}
	}
	return drill.Override{State: o.State, Actor: o.Actor}
}
