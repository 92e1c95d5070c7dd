package server

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/config"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/model"
)

// TestShutdownStopsStartedDrills: a drill started through the API (the
// scheduler's Start) runs for the node's lifetime: Shutdown stops it and
// waits for it to clear its fault while the store is open, so the node
// comes back with the pool not forced down, and no goroutine is left
// (TestMain).
func TestShutdownStopsStartedDrills(t *testing.T) {
	dir := t.TempDir()
	scenario := filepath.Join(dir, "eu.yaml")
	if err := os.WriteFile(scenario, []byte(`name: eu
services: [api.example.com]
nameservers: [{name: ns, address: "127.0.0.1:9"}]
clients: [{name: fra, subnet: 203.0.113.0/24}]
interval: 1s
steps:
  - fail: {service: api.example.com, pool: dub}
  - wait: 1h
`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.DataDir = filepath.Join(dir, "data")
	cfg.DNS.Listen = []string{"127.0.0.1:0"}
	cfg.API.Listen = "127.0.0.1:0"
	cfg.Drills = []config.Drill{{Scenario: scenario}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	n := New(cfg, Options{}, slog.New(slog.DiscardHandler))
	if err := n.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer n.Shutdown(ctx)
	if _, err := n.plane.Zones.CreateZone(ctx, control.NewZone{Settings: model.ZoneSettings{Name: "example.com."}, Nameservers: []model.Name{"ns1.example.com."}}, nil, "test"); err != nil {
		t.Fatal(err)
	}
	spec := model.Service{Name: "api.example.com.", Policy: model.PolicyFailover, Pools: []model.Pool{
		{Name: "dub", Region: "eu-west", Priority: 1, Check: model.CheckSpec{Type: model.CheckNone}},
		{Name: "iad", Region: "us-east", Priority: 2, Check: model.CheckSpec{Type: model.CheckNone}},
	}}
	if _, err := n.plane.Services.CreateService(ctx, spec, control.ServiceWriteOptions{Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	if err := n.drills.Start("eu", "admin"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for dubState(t, n) != "down" {
		if time.Now().After(deadline) {
			t.Fatal("the drill set no fault")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := n.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	cfg.Drills = nil
	again := New(cfg, Options{}, slog.New(slog.DiscardHandler))
	if err := again.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer again.Shutdown(ctx)
	if s := dubState(t, again); s != "" {
		t.Errorf("after Shutdown the pool is forced %q, want the drill's fault cleared", s)
	}
	runs, err := again.plane.DrillRuns.DrillRuns(ctx, "eu", 10)
	if err != nil || len(runs) != 1 || runs[0].Aborted == "" {
		t.Errorf("kept runs %+v %v, want the stopped run", runs, err)
	}
}

func dubState(t *testing.T, n *Node) string {
	t.Helper()
	spec, err := n.plane.Services.GetService(context.Background(), "api.example.com.")
	if err != nil {
		t.Fatal(err)
	}
	if o := spec.Pool("dub").Override; o != nil {
		return o.State
	}
	return ""
}
