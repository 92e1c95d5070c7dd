package server

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/control/controltest"
	"github.com/stratusdns/stratus/internal/drill"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/steer"
)

// fixedSteering says the same of every service's endpoints.
type fixedSteering map[string]steer.Verdict

func (f fixedSteering) EndpointStates(model.Name) map[string]steer.Verdict { return f }

// drillWorld is the control plane with api.example.com., pools in two
// regions, one endpoint each, as the server's drills see it.
func drillWorld(t *testing.T) (*control.Plane, drillPlane) {
	t.Helper()
	svc, _ := controltest.New(t, control.Options{})
	ctx := context.Background()
	if _, err := svc.Zones.CreateZone(ctx, control.NewZone{Settings: model.ZoneSettings{Name: "example.com."}, Nameservers: []model.Name{"ns1.example.com."}}, nil, "test"); err != nil {
		t.Fatal(err)
	}
	spec := model.Service{Name: "api.example.com.", Policy: model.PolicyFailover, Pools: []model.Pool{
		{Name: "dub", Region: "eu-west", Provider: "aws", Jurisdiction: "eu", Priority: 1, Check: model.CheckSpec{Type: model.CheckNone}},
		{Name: "iad", Region: "us-east", Provider: "aws", Jurisdiction: "us", Priority: 2, Check: model.CheckSpec{Type: model.CheckNone}},
	}}
	if _, err := svc.Services.CreateService(ctx, spec, control.ServiceWriteOptions{Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	for _, e := range []model.Endpoint{{ID: "dub-1", Pool: "dub", Address: "192.0.2.1"}, {ID: "iad-1", Pool: "iad", Address: "www.example.net"}} {
		e.Service = spec.Name
		if _, _, err := svc.Endpoints.RegisterEndpoint(ctx, spec.Name, e, "test"); err != nil {
			t.Fatal(err)
		}
	}
	steering := fixedSteering{"dub-1": {Answerable: true}, "iad-1": {Why: "check: down"}, "iad-2": {Why: "drained"}}
	return svc, drillPlane{services: svc.Services, endpoints: svc.Endpoints, steering: steering}
}

// TestDrillPlane: the server's drills read the services under test from
// the control plane, and set and clear their faults as overrides with a
// lease, as the drill's actor.
func TestDrillPlane(t *testing.T) {
	svc, pl := drillWorld(t)
	ctx := context.Background()
	got, err := pl.Service(ctx, "api.example.com.")
	if err != nil {
		t.Fatal(err)
	}
	want := &drill.Service{Name: "api.example.com.",
		Pools: []drill.Pool{
			{Name: "dub", Region: "eu-west", Provider: "aws", Jurisdiction: "eu"},
			{Name: "iad", Region: "us-east", Provider: "aws", Jurisdiction: "us"},
		},
		Endpoints: []drill.Endpoint{{ID: "dub-1", Pool: "dub", Address: "192.0.2.1"}, {ID: "iad-1", Pool: "iad", Address: "www.example.net"}},
	}
	slices.SortFunc(got.Endpoints, func(a, b drill.Endpoint) int { return strings.Compare(a.ID, b.ID) })
	if g, w := jsonOf(t, got), jsonOf(t, want); g != w {
		t.Errorf("service\n got %s\nwant %s", g, w)
	}
	if _, err := pl.Service(ctx, "nope.example.com."); err == nil {
		t.Error("a service that does not exist was read")
	}

	pool := drill.Fault{Service: "api.example.com.", Pool: "dub"}
	endpoint := drill.Fault{Service: "api.example.com.", Endpoint: "iad-1"}
	for _, f := range []drill.Fault{pool, endpoint} {
		if err := pl.SetFault(ctx, f, "drill eu, step 1", "drill:eu", 30*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	spec, _ := svc.Services.GetService(ctx, "api.example.com.")
	if o := spec.Pool("dub").Override; o == nil || o.State != "down" || o.Actor != "drill:eu" || o.Reason != "drill eu, step 1" || o.Expires.Sub(o.Time) != 30*time.Second {
		t.Errorf("pool override %+v", o)
	}
	if o := endpointOverride(t, svc, "iad-1"); o == nil || o.State != "down" || o.Actor != "drill:eu" || o.Expires.Sub(o.Time) != 30*time.Second {
		t.Errorf("endpoint override %+v", o)
	}
	got, _ = pl.Service(ctx, "api.example.com.")
	if o := got.Pool("dub").Override; o != (drill.Override{State: "down", Actor: "drill:eu"}) {
		t.Errorf("the drill sees the pool's override as %+v", o)
	}
	for _, f := range []drill.Fault{pool, endpoint} {
		if err := pl.ClearFault(ctx, f, "drill:eu"); err != nil {
			t.Fatal(err)
		}
	}
	spec, _ = svc.Services.GetService(ctx, "api.example.com.")
	if o := spec.Pool("dub").Override; o == nil || o.State != "" || o.Actor != "drill:eu" {
		t.Errorf("pool override cleared: %+v", o)
	}
	if o := endpointOverride(t, svc, "iad-1"); o == nil || o.State != "" || o.Actor != "drill:eu" {
		t.Errorf("endpoint override cleared: %+v", o)
	}
	if err := pl.SetFault(ctx, drill.Fault{Service: "api.example.com.", Pool: "mars"}, "r", "drill:eu", time.Minute); err == nil {
		t.Error("a fault on a pool that does not exist was set")
	}

	down, err := pl.Unanswerable(ctx, "api.example.com.")
	if err != nil || !slices.Equal(down, []string{"iad-1 (check: down)", "iad-2 (drained)"}) {
		t.Errorf("unanswerable: %q %v", down, err)
	}
}

// TestDrillKeeper: the server's drill runs are kept in the store, as who
// started them.
func TestDrillKeeper(t *testing.T) {
	svc, _ := drillWorld(t)
	ctx := context.Background()
	start := time.Unix(1700000000, 0).UTC()
	rec := drill.Record{Drill: "eu", Started: start, Ended: start.Add(time.Minute), Aborted: "aborted", Report: json.RawMessage(`{"scenario":"eu"}`)}
	id, err := drillKeeper{svc.DrillRuns}.KeepRun(ctx, rec, "schedule")
	if err != nil {
		t.Fatal(err)
	}
	kept, err := svc.DrillRuns.DrillRun(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if kept.Drill != "eu" || !kept.Started.Equal(start) || !kept.Ended.Equal(rec.Ended) || kept.Passed || kept.Aborted != "aborted" || kept.Actor != "schedule" || string(kept.Report) != `{"scenario":"eu"}` {
		t.Errorf("kept %+v", kept)
	}
	if _, err := (drillKeeper{svc.DrillRuns}).KeepRun(ctx, drill.Record{Drill: "no such name!", Started: start, Ended: start}, "schedule"); err == nil {
		t.Error("a run with a bad drill name was kept")
	}
}

func endpointOverride(t *testing.T, svc *control.Plane, id string) *model.Override {
	t.Helper()
	eps, err := svc.Endpoints.Endpoints(context.Background(), "api.example.com.")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range eps {
		if e.ID == id {
			return e.Override
		}
	}
	t.Fatalf("no endpoint %s", id)
	return nil
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
