package server

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/config"
)

// TestStartShutdown: a node started with everything it runs (DNS, API,
// publisher, steering, health, secondaries, NOTIFY, drills) stops every
// goroutine it started on Shutdown (TestMain checks none is left).
func TestStartShutdown(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.DNS.Listen = []string{"127.0.0.1:0"}
	cfg.API.Listen = "127.0.0.1:0"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	n := New(cfg, Options{}, slog.New(slog.DiscardHandler))
	ctx := context.Background()
	if err := n.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if len(n.DNSAddrs()) == 0 || n.APIAddr() == nil {
		t.Fatalf("started without listeners: %v %v", n.DNSAddrs(), n.APIAddr())
	}
	if err := n.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestAloneLeadsAtOnce: a node on bbolt leads its cluster of one at once,
// and GET /v1/cluster's source lists it, leading, at its addresses.
func TestAloneLeadsAtOnce(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.DNS.Listen = []string{"127.0.0.1:0"}
	cfg.API.Listen = "127.0.0.1:0"
	cfg.Cluster.Node = "solo"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	n := New(cfg, Options{}, slog.New(slog.DiscardHandler))
	ctx := context.Background()
	if err := n.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer n.Shutdown(ctx)
	deadline := time.Now().Add(10 * time.Second)
	for {
		cl, err := n.clusterStatus(ctx)
		if err == nil && len(cl.Members) == 1 && cl.Members[0].Leader && cl.Members[0].API == n.APIAddr().String() {
			if cl.Node != "solo" || cl.Leader != "solo" || cl.Members[0].Lag != 0 || len(cl.Members[0].DNS) != 1 {
				t.Fatalf("cluster %+v", cl)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not leading alone: %+v %v", cl, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n.cluster.Terms() != 1 {
		t.Errorf("%d terms, want 1", n.cluster.Terms())
	}
}
