package drill

import (
	"context"
	"testing"
	"time"
)

// newWorld serves api.example.com. with pools in two regions of the EU
// and one in the US, one endpoint each.
func newWorld() (*fakePlane, *Scenario) {
	return newFakePlane(), &Scenario{Name: "t", Services: []string{"api.example.com"}}
}

func TestFaultTargets(t *testing.T) {
	svc, s := newWorld()
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
	svc, s := newWorld()
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
	dub := svc.pool("dub")
	if o := dub.Override; o.State != "down" || o.Actor != "drill:eu-drill" || dub.lease != 30*time.Second {
		t.Fatalf("pool override %+v, lease %v", o, dub.lease)
	}
	if err := fs.renew(ctx); err != nil {
		t.Fatal(err)
	}
	if renewed := svc.pool("dub"); renewed.sets != 2 || renewed.lease != 30*time.Second {
		t.Errorf("renewing set the override %d times, lease %v", renewed.sets, renewed.lease)
	}
	// An operator takes over one pool; the drill leaves it alone.
	if err := svc.override(Fault{Service: fakeService, Pool: "fra"}, "up", "alice", 0); err != nil {
		t.Fatal(err)
	}
	if err := fs.clearAll(ctx); err != nil {
		t.Fatal(err)
	}
	if o := svc.pool("dub").Override; o.State != "" || o.Actor != "drill:eu-drill" {
		t.Errorf("dub after the drill: %+v", o)
	}
	if o := svc.pool("fra").Override; o.State != "up" || o.Actor != "alice" {
		t.Errorf("fra, taken over by an operator: %+v", o)
	}
	if o := svc.endpoint("iad-1").Override; o.State != "" || o.Actor != "drill:eu-drill" {
		t.Errorf("iad-1 after the drill: %+v", o)
	}
	if len(fs.active) != 0 {
		t.Errorf("still active: %v", fs.active)
	}
}
