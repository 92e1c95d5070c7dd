package server

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/stratusdns/stratus/internal/config"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/model"
)

// TestSteeringMetricsThroughDNS answers real DNS queries for a service
// before and during a failover and checks what the node's registry
// counted: the answers per pool and reason, and the failover.
func TestSteeringMetricsThroughDNS(t *testing.T) {
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
	defer n.Shutdown(ctx)

	ns := model.MustName("ns1.example.com.")
	glue := &model.RRset{Name: ns, Type: dns.TypeA, TTL: 300}
	rd, err := model.ParseRdata(dns.TypeA, "192.0.2.53")
	if err != nil {
		t.Fatal(err)
	}
	glue.Rdata = append(glue.Rdata, rd)
	if _, err := n.plane.Zones.CreateZone(ctx, control.NewZone{
		Settings:    model.ZoneSettings{Name: "example.com.", DefaultTTL: 300},
		Nameservers: []model.Name{ns, model.MustName("ns2.example.net.")},
	}, []*model.RRset{glue}, "test"); err != nil {
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
	ask := func(times int, want string) {
		t.Helper()
		c := &dns.Client{Net: "udp", Timeout: 10 * time.Second}
		for range times {
			m := new(dns.Msg)
			m.SetQuestion("api.example.com.", dns.TypeA)
			r, _, err := c.Exchange(m, n.DNSAddrs()[0].String())
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != want {
				t.Fatalf("answer %v, want %s", r.Answer, want)
			}
		}
	}
	ask(3, "192.0.2.1") // cold start: healthy, from the first tier
	deadline := time.Now().Add(time.Minute)
	for n.checker.Push("api.example.com.|a", false, "test") != nil { // once its target is checked
		if time.Now().After(deadline) {
			t.Fatal("the endpoint is never checked")
		}
		time.Sleep(5 * time.Millisecond)
	}
	for !failoverActive(t, n) {
		if time.Now().After(deadline) {
			t.Fatal("no failover counted")
		}
		time.Sleep(5 * time.Millisecond)
	}
	ask(2, "192.0.2.2")
	if err := testutil.GatherAndCompare(n.metrics, strings.NewReader(`
# HELP stratus_steering_answers_total Answers to queries for steered names, by service, pool answered from ("" for a static answer, SERVFAIL or no records) and reason: healthy (the first tier), fallback (a lower tier), all_down (the when_all_down policy).
# TYPE stratus_steering_answers_total counter
stratus_steering_answers_total{pool="backup",reason="fallback",service="api.example.com."} 2
stratus_steering_answers_total{pool="primary",reason="healthy",service="api.example.com."} 3
# HELP stratus_steering_failover_active 1 while a failover of the service is running (started, not ended), else 0.
# TYPE stratus_steering_failover_active gauge
stratus_steering_failover_active{service="api.example.com."} 1
# HELP stratus_health_transitions_total Changes of a checked endpoint's state as this node's checks see it, by the state changed to (up, down).
# TYPE stratus_health_transitions_total counter
stratus_health_transitions_total{to="down"} 1
stratus_health_transitions_total{to="up"} 0
# HELP stratus_health_registrations_total Endpoint registrations committed (new endpoints and registrations again).
# TYPE stratus_health_registrations_total counter
stratus_health_registrations_total 2
`), "stratus_steering_answers_total", "stratus_steering_failover_active", "stratus_health_transitions_total", "stratus_health_registrations_total"); err != nil {
		t.Error(err)
	}
}

// failoverActive reports whether the node's registry has a failover of
// api.example.com. running.
func failoverActive(t *testing.T, n *Node) bool {
	t.Helper()
	mfs, err := n.metrics.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "stratus_steering_failover_active" {
			for _, m := range mf.GetMetric() {
				if m.GetGauge().GetValue() == 1 {
					return true
				}
			}
		}
	}
	return false
}
