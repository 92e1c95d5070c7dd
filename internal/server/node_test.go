package server

import (
	"context"
	"log/slog"
	"testing"

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
