package server

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/alert"
	"github.com/stratusdns/stratus/internal/config"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/steer"
	"github.com/stratusdns/stratus/internal/testutil"
	"github.com/stratusdns/stratus/internal/webhook"
)

const hookSecret = "server-test-secret-0123456789"

// hookReceiver records what a webhook receiver on loopback is sent.
type hookReceiver struct {
	mu  sync.Mutex
	got []hookRequest
	srv *http.Server
}

type hookRequest struct {
	header http.Header
	body   []byte
}

// serveHooks serves a receiver on ln that accepts everything.
func serveHooks(t *testing.T, ln net.Listener) *hookReceiver {
	rc := &hookReceiver{}
	rc.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, hookRequest{r.Header.Clone(), b})
		rc.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})}
	done := make(chan struct{})
	go func() { defer close(done); rc.srv.Serve(ln) }()
	t.Cleanup(func() { rc.srv.Close(); <-done })
	return rc
}

func (rc *hookReceiver) requests() []hookRequest {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]hookRequest(nil), rc.got...)
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func webhookNodeConfig(t *testing.T, dir string) config.Config {
	cfg := config.Default()
	cfg.DataDir = filepath.Join(dir, "data")
	cfg.DNS.Listen = []string{"127.0.0.1:0"}
	cfg.API.Listen = "127.0.0.1:0"
	cfg.Cluster.Node = "solo"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// deliveries returns stratus_webhook_deliveries_total of webhook and
// result on n's registry (0 before the first).
func deliveries(t *testing.T, n *Node, webhook, result string) float64 {
	t.Helper()
	mfs, err := n.metrics.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "stratus_webhook_deliveries_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["webhook"] == webhook && labels["result"] == result {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func outbox(t *testing.T, n *Node) []control.OutboxEntry {
	t.Helper()
	out, err := n.plane.Webhooks.Outbox(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// An alert whose receiver cannot be reached stays in the outbox across a
// restart: the node started again delivers it, under the same delivery
// id, once the receiver is up. The secret is never in the log.
func TestWebhookOutboxSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	// A port nothing listens on, for now.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	cfg := webhookNodeConfig(t, dir)
	logs := &testutil.LogBuffer{}
	ctx := context.Background()
	n := New(cfg, Options{}, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err := n.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer n.Shutdown(ctx)
	if _, err := n.plane.Webhooks.CreateWebhook(ctx, control.Webhook{Name: "ops", URL: "http://" + addr + "/hook", Secret: hookSecret}, "test"); err != nil {
		t.Fatal(err)
	}
	n.alerts.Emit(alert.Event{Kind: alert.SecondaryExpired, Zone: "sec.example.", Summary: "expired"})
	var pending []control.OutboxEntry
	waitUntil(t, "the alert in the outbox", func() bool { pending = outbox(t, n); return len(pending) == 1 })
	waitUntil(t, "a failed attempt", func() bool { return deliveries(t, n, "ops", "retry") >= 1 })
	if err := n.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("the receiver's port was taken meanwhile: %v", err)
	}
	rc := serveHooks(t, ln)
	again := New(cfg, Options{}, slog.New(slog.NewTextHandler(logs, nil)))
	if err := again.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer again.Shutdown(ctx)
	waitUntil(t, "the delivery", func() bool { return len(rc.requests()) >= 1 })
	waitUntil(t, "the outbox to empty", func() bool { return len(outbox(t, again)) == 0 })
	r := rc.requests()[0]
	if id := r.header.Get(webhook.HeaderDelivery); id != pending[0].Delivery {
		t.Errorf("delivery %q, want %q as before the restart", id, pending[0].Delivery)
	}
	ts := r.header.Get(webhook.HeaderTimestamp)
	if r.header.Get(webhook.HeaderSignature) != webhook.Sign(hookSecret, ts, r.body) {
		t.Error("bad signature")
	}
	var p webhook.Payload
	if err := json.Unmarshal(r.body, &p); err != nil || p.Kind != "secondary_expired" || p.Node != "solo" {
		t.Errorf("payload %s: %v", r.body, err)
	}
	if strings.Contains(logs.String(), hookSecret) {
		t.Error("the secret is in the log")
	}
}

// A drill run that fails sends drill_failed to the webhooks.
func TestFailedDrillAlertDelivered(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rc := serveHooks(t, ln)
	scenario := filepath.Join(dir, "eu.yaml")
	if err := os.WriteFile(scenario, []byte(`name: eu
services: [api.example.com]
nameservers: [{name: ns, address: "127.0.0.1:9"}]
clients: [{name: fra, subnet: 203.0.113.0/24}]
interval: 1s
steps:
  - run: "exit 3"
`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := webhookNodeConfig(t, dir)
	cfg.Drills = []config.Drill{{Scenario: scenario}}
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
	}}
	if _, err := n.plane.Services.CreateService(ctx, spec, control.ServiceWriteOptions{Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.plane.Webhooks.CreateWebhook(ctx, control.Webhook{Name: "drills", URL: "http://" + ln.Addr().String() + "/", Secret: hookSecret, Events: []string{"drill_failed"}}, "test"); err != nil {
		t.Fatal(err)
	}
	if err := n.drills.Start("eu", "admin"); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the drill_failed alert", func() bool { return len(rc.requests()) == 1 })
	r := rc.requests()[0]
	var p webhook.Payload
	if err := json.Unmarshal(r.body, &p); err != nil || p.Kind != "drill_failed" || p.Drill != "eu" || p.Details["run"] == "" || r.header.Get(webhook.HeaderEvent) != "drill_failed" {
		t.Errorf("payload %s (%v), headers %v", r.body, err, r.header)
	}
}

// A failover seen by steering reaches a webhook: the endpoint going down
// and the failover it causes are delivered, signed, with the pools the
// answers moved between; the failover's end follows when the endpoint
// comes back. A kind the webhook does not take (endpoint_up) is not sent.
func TestFailoverAlertDelivered(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rc := serveHooks(t, ln)
	cfg := webhookNodeConfig(t, dir)
	ctx := context.Background()
	n := New(cfg, Options{}, slog.New(slog.DiscardHandler))
	if err := n.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer n.Shutdown(ctx)
	if _, err := n.plane.Webhooks.CreateWebhook(ctx, control.Webhook{Name: "ops", URL: "http://" + ln.Addr().String() + "/hook", Secret: hookSecret,
		Events: []string{"secondary_expired", "endpoint_down", "failover_started", "failover_ended"}}, "test"); err != nil {
		t.Fatal(err)
	}
	// Deliveries run on the leader: one alert delivered shows that they
	// have begun, and that steering's alerts are written from now on.
	n.alerts.Emit(alert.Event{Kind: alert.SecondaryExpired, Zone: "sec.example.", Summary: "expired"})
	waitUntil(t, "the first delivery", func() bool { return len(rc.requests()) == 1 })

	if _, err := n.plane.Zones.CreateZone(ctx, control.NewZone{Settings: model.ZoneSettings{Name: "example.com."}, Nameservers: []model.Name{"ns1.example.net."}}, nil, "test"); err != nil {
		t.Fatal(err)
	}
	push := model.CheckSpec{Type: model.CheckPush}
	if _, err := n.plane.Services.CreateService(ctx, model.Service{Name: "api.example.com.", Pools: []model.Pool{
		{Name: "primary", Priority: 1, Check: push}, {Name: "backup", Priority: 2, Check: push},
	}}, control.ServiceWriteOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, ep := range []model.Endpoint{{ID: "a", Pool: "primary", Address: "192.0.2.1"}, {ID: "b", Pool: "backup", Address: "192.0.2.2"}} {
		if _, _, err := n.plane.Endpoints.RegisterEndpoint(ctx, "api.example.com.", ep, "test"); err != nil {
			t.Fatal(err)
		}
	}
	waitUntil(t, "the endpoint's target", func() bool { return n.checker.Push("api.example.com.|a", true, "test") == nil })
	// Steering alerts a change between two check results: the first
	// (up) must have been compiled before the second (down) is pushed.
	waitUntil(t, "endpoint a seen up", func() bool {
		svc := n.steering.Snapshots().Load().Service(string(model.Name("api.example.com.").Wire()))
		return svc != nil && slices.ContainsFunc(svc.Endpoints, func(e steer.Endpoint) bool {
			return e.Spec.ID == "a" && e.Health.State == steer.Up
		})
	})
	if err := n.checker.Push("api.example.com.|a", false, "test"); err != nil {
		t.Fatal(err)
	}
	kinds := func() []string {
		var out []string
		for _, r := range rc.requests()[1:] {
			out = append(out, r.header.Get(webhook.HeaderEvent))
		}
		return out
	}
	waitUntil(t, "endpoint_down and failover_started", func() bool { return len(rc.requests()) == 3 })
	if err := n.checker.Push("api.example.com.|a", true, "test"); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "failover_ended", func() bool { return len(rc.requests()) == 4 })
	got := map[string]webhook.Payload{}
	for _, r := range rc.requests()[1:] {
		if r.header.Get(webhook.HeaderSignature) != webhook.Sign(hookSecret, r.header.Get(webhook.HeaderTimestamp), r.body) {
			t.Errorf("bad signature on %s", r.body)
		}
		var p webhook.Payload
		if err := json.Unmarshal(r.body, &p); err != nil {
			t.Fatal(err)
		}
		got[p.Kind] = p
	}
	if len(got) != 3 || got["endpoint_up"].Kind != "" {
		t.Fatalf("kinds delivered %v, want endpoint_down, failover_started, failover_ended", kinds())
	}
	if p := got["endpoint_down"]; p.Service != "api.example.com." || p.Pool != "primary" || p.Endpoint != "a" || p.Details["address"] != "192.0.2.1" {
		t.Errorf("endpoint_down %+v", p)
	}
	if p := got["failover_started"]; p.Service != "api.example.com." || p.Pool != "backup" || p.Details["from_pool"] != "primary" || p.Details["to_pool"] != "backup" {
		t.Errorf("failover_started %+v", p)
	}
	if p := got["failover_ended"]; p.Pool != "primary" {
		t.Errorf("failover_ended %+v", p)
	}
}
