package drill

import (
	"context"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/control/controltest"
	"github.com/stratusdns/stratus/internal/model"
)

// planeControl is a control plane's services and endpoints as a drill
// changes and reads them.
type planeControl struct{ p *control.Plane }

func (c planeControl) GetService(ctx context.Context, name model.Name) (*model.Service, error) {
	return c.p.Services.GetService(ctx, name)
}

func (c planeControl) Endpoints(ctx context.Context, svc model.Name) ([]*model.Endpoint, error) {
	return c.p.Endpoints.Endpoints(ctx, svc)
}

func (c planeControl) SetEndpointOverride(ctx context.Context, svc model.Name, id, state, reason, actor string, ttl time.Duration) (*model.Endpoint, error) {
	return c.p.Endpoints.SetEndpointOverride(ctx, svc, id, state, reason, actor, ttl)
}

func (c planeControl) SetPoolOverride(ctx context.Context, svc model.Name, pool, state, reason string, ttl time.Duration, wo control.ServiceWriteOptions) (*model.Service, error) {
	return c.p.Services.SetPoolOverride(ctx, svc, pool, state, reason, ttl, wo)
}

// newWorld serves api.example.com. with pools in two regions of the EU
// and one in the US, one endpoint each.
func newWorld(t *testing.T) (planeControl, *Scenario) {
	t.Helper()
	svc, _ := controltest.New(t, control.Options{})
	ctx := context.Background()
	_, err := svc.Zones.CreateZone(ctx, control.NewZone{Settings: model.ZoneSettings{Name: "example.com."}, Nameservers: []model.Name{"ns1.example.com."}}, nil, "test")
	if err != nil {
		t.Fatal(err)
	}
	spec := &model.Service{Name: "api.example.com.", Policy: model.PolicyFailover, Pools: []model.Pool{
		{Name: "dub", Region: "eu-west", Provider: "aws", Jurisdiction: "eu", Priority: 1, Check: model.CheckSpec{Type: model.CheckNone}},
		{Name: "fra", Region: "eu-central", Provider: "gcp", Jurisdiction: "eu", Priority: 2, Check: model.CheckSpec{Type: model.CheckNone}},
		{Name: "iad", Region: "us-east", Provider: "aws", Jurisdiction: "us", Priority: 3, Check: model.CheckSpec{Type: model.CheckNone}},
	}}
	if _, err := svc.Services.CreateService(ctx, *spec, control.ServiceWriteOptions{Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	for id, pool := range map[string]string{"dub-1": "dub", "fra-1": "fra", "iad-1": "iad"} {
		addr := map[string]string{"dub": "192.0.2.1", "fra": "192.0.2.2", "iad": "198.51.100.1"}[pool]
		if _, _, err := svc.Endpoints.RegisterEndpoint(ctx, spec.Name, model.Endpoint{Service: spec.Name, ID: id, Pool: pool, Address: addr}, "test"); err != nil {
			t.Fatal(err)
		}
	}
	return planeControl{svc}, &Scenario{Name: "t", Services: []string{"api.example.com"}}
}

func TestFaultTargets(t *testing.T) {
	svc, s := newWorld(t)
	w, err := loadWorld(context.Background(), svc, s)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		target Target
		want   int
	}{
		{Target{Service: "api.example.com", Pool: "dub"}, 1},
		{Target{Service: "api.example.com", Endpoint: "iad-1"}, 1},
		{Target{Region: "eu-west"}, 1},
		{Target{Provider: "aws"}, 2},
		{Target{Jurisdiction: "eu"}, 2},
	} {
		fs, err := w.faults(&tc.target)
		if err != nil || len(fs) != tc.want {
			t.Errorf("%+v: %v %v", tc.target, fs, err)
		}
	}
	if _, err := w.faults(&Target{Region: "mars"}); err == nil {
		t.Error("a target matching nothing was accepted")
	}
	info := w.endpointInfo()
	if info["fra-1"].Answer != "192.0.2.2" || info["iad-1"].Jurisdiction != "us" {
		t.Errorf("endpoint info %+v", info)
	}
}

// TestFaultLeases: every override a drill sets has a lease, renewing it
// moves the expiry, clearing restores only what is still the drill's.
func TestFaultLeases(t *testing.T) {
	svc, s := newWorld(t)
	ctx := context.Background()
	w, _ := loadWorld(ctx, svc, s)
	fs := newFaultSet(svc, "eu-drill", 30*time.Second)
	faults, _ := w.faults(&Target{Jurisdiction: "eu"})
	endpoint, _ := w.faults(&Target{Service: "api.example.com", Endpoint: "iad-1"})
	for _, f := range append(faults, endpoint...) {
		if err := fs.set(ctx, f, "step 1"); err != nil {
			t.Fatal(err)
		}
	}
	spec, _ := svc.GetService(ctx, "api.example.com.")
	o := spec.Pool("dub").Override
	if o == nil || o.State != "down" || o.Actor != "drill:eu-drill" || o.Expires.Sub(o.Time) != 30*time.Second {
		t.Fatalf("pool override %+v", o)
	}
	first := o.Expires
	time.Sleep(10 * time.Millisecond)
	if err := fs.renew(ctx); err != nil {
		t.Fatal(err)
	}
	spec, _ = svc.GetService(ctx, "api.example.com.")
	if !spec.Pool("dub").Override.Expires.After(first) {
		t.Error("renewing did not move the expiry")
	}
	// An operator takes over one pool; the drill leaves it alone.
	if _, err := svc.SetPoolOverride(ctx, "api.example.com.", "fra", "up", "ops", 0, control.ServiceWriteOptions{Actor: "alice"}); err != nil {
		t.Fatal(err)
	}
	if err := fs.clearAll(ctx); err != nil {
		t.Fatal(err)
	}
	spec, _ = svc.GetService(ctx, "api.example.com.")
	if o := spec.Pool("dub").Override; o == nil || o.State != "" || o.Actor != "drill:eu-drill" {
		t.Errorf("dub after the drill: %+v", o)
	}
	if o := spec.Pool("fra").Override; o == nil || o.State != "up" || o.Actor != "alice" {
		t.Errorf("fra, taken over by an operator: %+v", o)
	}
	eps, _ := svc.Endpoints(ctx, "api.example.com.")
	for _, e := range eps {
		if e.ID == "iad-1" && (e.Override == nil || e.Override.State != "") {
			t.Errorf("iad-1 after the drill: %+v", e.Override)
		}
	}
	if len(fs.active) != 0 {
		t.Errorf("still active: %v", fs.active)
	}
}
