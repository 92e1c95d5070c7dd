package server

import (
	"context"
	"slices"
	"time"

	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/drill"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/steer"
)

// drillServices, drillEndpoints, drillRuns and drillSteering are what the
// server's own drills call: the control plane's services, endpoints and
// drill runs, and steering's view of which endpoints are answered.
type (
	drillServices interface {
		GetService(ctx context.Context, name model.Name) (*model.Service, error)
		SetPoolOverride(ctx context.Context, name model.Name, pool, state, reason string, ttl time.Duration, wo control.ServiceWriteOptions) (*model.Service, error)
	}
	drillEndpoints interface {
		Endpoints(ctx context.Context, svc model.Name) ([]*model.Endpoint, error)
		SetEndpointOverride(ctx context.Context, svc model.Name, id, state, reason, actor string, ttl time.Duration) (*model.Endpoint, error)
	}
	drillRuns interface {
		SaveDrillRun(ctx context.Context, run control.DrillRun, actor string) (string, error)
	}
	drillSteering interface {
		EndpointStates(svc model.Name) map[string]steer.Verdict
	}
)

// drillPlane is the control plane as the server's drills see it
// (drill.Plane): faults are overrides set through the ordinary write path.
type drillPlane struct {
	services  drillServices
	endpoints drillEndpoints
	steering  drillSteering
}

func (d drillPlane) Service(ctx context.Context, name model.Name) (*drill.Service, error) {
	spec, err := d.services.GetService(ctx, name)
	if err != nil {
		return nil, err
	}
	eps, err := d.endpoints.Endpoints(ctx, name)
	if err != nil {
		return nil, err
	}
	out := &drill.Service{Name: name}
	for _, p := range spec.Pools {
		out.Pools = append(out.Pools, drill.Pool{Name: p.Name, Region: p.Region, Provider: p.Provider, Jurisdiction: p.Jurisdiction, Override: drillOverride(p.Override)})
	}
	for _, e := range eps {
		out.Endpoints = append(out.Endpoints, drill.Endpoint{ID: e.ID, Pool: e.Pool, Address: e.Address, Override: drillOverride(e.Override)})
	}
	return out, nil
}

func (d drillPlane) SetFault(ctx context.Context, f drill.Fault, reason, actor string, lease time.Duration) error {
	return d.override(ctx, f, "down", reason, actor, lease)
}

func (d drillPlane) ClearFault(ctx context.Context, f drill.Fault, actor string) error {
	return d.override(ctx, f, "", "", actor, 0)
}

func (d drillPlane) override(ctx context.Context, f drill.Fault, state, reason, actor string, lease time.Duration) error {
	var err error
	if f.Endpoint != "" {
		_, err = d.endpoints.SetEndpointOverride(ctx, f.Service, f.Endpoint, state, reason, actor, lease)
	} else {
		_, err = d.services.SetPoolOverride(ctx, f.Service, f.Pool, state, reason, lease, control.ServiceWriteOptions{Actor: actor})
	}
	return err
}

// Unanswerable lists the endpoints steering leaves out of the answers.
func (d drillPlane) Unanswerable(_ context.Context, svc model.Name) ([]string, error) {
	var out []string
	for id, v := range d.steering.EndpointStates(svc) {
		if !v.Answerable {
			out = append(out, id+" ("+v.Why+")")
		}
	}
	slices.Sort(out)
	return out, nil
}

func drillOverride(o *model.Override) drill.Override {
	if o == nil {
		return drill.Override{}
	}
	return drill.Override{State: o.State, Actor: o.Actor}
}

// drillKeeper keeps the server's drill runs in the store (drill.Keeper).
type drillKeeper struct{ runs drillRuns }

func (k drillKeeper) KeepRun(ctx context.Context, r drill.Record, actor string) (string, error) {
	return k.runs.SaveDrillRun(ctx, control.DrillRun{Drill: r.Drill, Started: r.Started, Ended: r.Ended, Passed: r.Passed, Aborted: r.Aborted, Report: r.Report}, actor)
}
