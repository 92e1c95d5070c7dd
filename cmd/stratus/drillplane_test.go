package main

import (
	"context"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/api"
	"github.com/stratusdns/stratus/internal/auth"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/control/controltest"
	"github.com/stratusdns/stratus/internal/drill"
	"github.com/stratusdns/stratus/internal/health"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/steer"
	"github.com/stratusdns/stratus/pkg/client"
)

// verdicts is steering that says the same of every service's endpoints;
// the API asks it nothing else here.
type verdicts struct {
	api.SteeringView
	of map[string]steer.Verdict
}

func (v verdicts) EndpointState(_ model.Name, id string) (steer.Verdict, steer.Answered, bool) {
	vd, ok := v.of[id]
	return vd, steer.Answered{}, ok
}
func (v verdicts) Status(model.Name, string) (health.Status, bool) { return health.Status{}, false }

// TestAPIDrillPlane: a drill run from the CLI reads the services under
// test and sets and clears its faults through the API, which records
// them as the token's, for the drill.
func TestAPIDrillPlane(t *testing.T) {
	svc, _ := controltest.New(t, control.Options{})
	ctx := context.Background()
	tok, _, err := svc.Tokens.CreateToken(ctx, "alice", []string{"*"}, auth.Local("test"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Zones.CreateZone(ctx, control.NewZone{Settings: model.ZoneSettings{Name: "example.com."}, Nameservers: []model.Name{"ns1.example.com."}}, nil, "test"); err != nil {
		t.Fatal(err)
	}
	spec := model.Service{Name: "api.example.com.", Policy: model.PolicyFailover, Pools: []model.Pool{
		{Name: "dub", Region: "eu-west", Provider: "aws", Jurisdiction: "eu", Priority: 1, Check: model.CheckSpec{Type: model.CheckNone}},
	}}
	if _, err := svc.Services.CreateService(ctx, spec, control.ServiceWriteOptions{Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.Endpoints.RegisterEndpoint(ctx, spec.Name, model.Endpoint{Service: spec.Name, ID: "dub-1", Pool: "dub", Address: "192.0.2.1"}, "test"); err != nil {
		t.Fatal(err)
	}
	steering := verdicts{of: map[string]steer.Verdict{"dub-1": {Why: "check: down"}}}
	srv := httptest.NewServer(api.New(api.PlaneControl(svc), api.Options{Steering: steering}))
	t.Cleanup(srv.Close)
	pl := apiDrillPlane{client.New(srv.URL, tok)}

	got, err := pl.Service(ctx, "api.example.com.")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Pools) != 1 || got.Pools[0] != (drill.Pool{Name: "dub", Region: "eu-west", Provider: "aws", Jurisdiction: "eu"}) ||
		!slices.Equal(got.Endpoints, []drill.Endpoint{{ID: "dub-1", Pool: "dub", Address: "192.0.2.1"}}) {
		t.Errorf("service %+v", got)
	}
	if _, err := pl.Service(ctx, "nope.example.com."); err == nil {
		t.Error("a service that does not exist was read")
	}

	pool := drill.Fault{Service: "api.example.com.", Pool: "dub"}
	endpoint := drill.Fault{Service: "api.example.com.", Endpoint: "dub-1"}
	for _, f := range []drill.Fault{pool, endpoint} {
		if err := pl.SetFault(ctx, f, "drill eu, step 1", "drill:eu", 30*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	s, _ := svc.Services.GetService(ctx, "api.example.com.")
	if o := s.Pool("dub").Override; o == nil || o.State != "down" || o.Reason != "drill eu, step 1" || o.Expires.Sub(o.Time) != 30*time.Second {
		t.Errorf("pool override %+v", o)
	}
	got, _ = pl.Service(ctx, "api.example.com.")
	want := drill.Override{State: "down", Actor: "alice (drill:eu)"}
	if got.Pools[0].Override != want || got.Endpoints[0].Override != want {
		t.Errorf("the drill sees the overrides as %+v and %+v, want %+v", got.Pools[0].Override, got.Endpoints[0].Override, want)
	}
	for _, f := range []drill.Fault{pool, endpoint} {
		if err := pl.ClearFault(ctx, f, "drill:eu"); err != nil {
			t.Fatal(err)
		}
	}
	got, _ = pl.Service(ctx, "api.example.com.")
	if got.Pools[0].Override.State != "" || got.Endpoints[0].Override.State != "" {
		t.Errorf("cleared: %+v and %+v", got.Pools[0].Override, got.Endpoints[0].Override)
	}
	if err := pl.SetFault(ctx, drill.Fault{Service: "api.example.com.", Endpoint: "nope"}, "r", "drill:eu", time.Minute); err == nil {
		t.Error("a fault on an endpoint that does not exist was set")
	}

	down, err := pl.Unanswerable(ctx, "api.example.com.")
	if err != nil || !slices.Equal(down, []string{"dub-1 (check: down)"}) {
		t.Errorf("unanswerable: %q %v", down, err)
	}
}
