package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stratusdns/stratus/pkg/apiv1"
)

// TestSteerDamping: an endpoint whose server is toggled up and down
// quickly (interval 250ms, rise 1, fall 1; damping: more than 2 flaps in
// 30s hold it down for 6s) is held down although its checks pass again:
// the endpoint list shows held_until, an event with actor damping says
// why, answers carry the degraded TTL, and the endpoint is answered again
// once the hold is over.
func TestSteerDamping(t *testing.T) {
	t.Parallel()
	const svc = "damp.fn.example.com"
	s := steerStart(t, "", "")
	steerZone(t, s, "fn.example.com")
	h := steerHTTPOn(t, "127.0.0.5", 0)
	steerService(t, s, fmt.Sprintf(`{"name":"damp.fn.example.com","ttl":60,"degraded_ttl":5,
		"damping":{"flaps":2,"window":"30s","hold_down":"6s"},"pools":[
		{"name":"main","priority":1,"check":{"type":"http","port":%d,"interval":"250ms","rise":1,"fall":1}},
		{"name":"backup","priority":2}]}`, h.Port))
	steerEndpoint(t, s, svc, "d1", `{"pool":"main","address":"127.0.0.5"}`)
	steerEndpoint(t, s, svc, "b1", `{"pool":"backup","address":"127.0.0.9"}`)
	steerWaitState(t, s, svc, "d1", "up", 3*time.Second)
	steerWaitA(t, s, svc, "127.0.0.5", time.Second)

	// Three flaps: down, up, down. The third holds it down.
	h.Stop()
	steerWaitState(t, s, svc, "d1", "down", 3*time.Second)
	h.Start()
	steerWaitState(t, s, svc, "d1", "up", 3*time.Second)
	h.Stop()
	steerWaitState(t, s, svc, "d1", "down", 3*time.Second)
	ev := steerWaitEvent(t, s, svc, "d1", 2*time.Second, "hold-down event", func(e apiv1.Event) bool { return e.Actor == "damping" })
	if !strings.Contains(ev.Reason, "flapping: 3 state changes within 30s (more than 2): held down for 6s") {
		t.Errorf("hold-down event %+v", ev)
	}

	// The server is back and its checks pass, but the hold keeps d1 out.
	restart := time.Now()
	hits := h.hits.Load()
	h.Start()
	steerWait(t, 2*time.Second, "a successful probe during the hold", func() (bool, string) { return h.hits.Load() > hits, "" })
	e := steerEndpoints(t, s, svc)["d1"]
	if e.Health == nil || e.Health.HeldUntil == nil || !e.Health.HeldUntil.After(time.Now()) || e.Health.State != "down" {
		t.Fatalf("held endpoint: %+v, want state down with held_until in the future", e.Health)
	}
	t.Logf("held until %v (%v after the restart)", e.Health.HeldUntil.Format(time.RFC3339Nano), e.Health.HeldUntil.Sub(restart).Round(time.Millisecond))
	if r := steerA(t, s, svc); r.addrs() != "127.0.0.9" || r.TTL != 5 {
		t.Errorf("during the hold: %s, want the backup with the degraded TTL 5", r)
	}
	if x := steerExplain(t, s, svc, ""); !steerRemoved(x, "health", "d1", "held down for flapping until") {
		t.Errorf("explain during the hold: %+v", x.Steps)
	}
	if out := steerMustCLI(t, s, "endpoint", "list", svc, "-o", "json"); !strings.Contains(out, `"held_until"`) {
		t.Errorf("endpoint list -o json during the hold has no held_until:\n%s", out)
	}

	// Released after the hold.
	steerWaitA(t, s, svc, "127.0.0.5", 5*time.Second)
	back := time.Now()
	t.Logf("answered again %v after the restart", back.Sub(restart).Round(time.Millisecond))
	if back.Before(*e.Health.HeldUntil) {
		t.Errorf("answered again at %v, before held_until %v", back.Format(time.RFC3339Nano), e.Health.HeldUntil.Format(time.RFC3339Nano))
	}
	ev = steerWaitEvent(t, s, svc, "d1", time.Second, "hold-down ended event", func(e apiv1.Event) bool { return e.Reason == "hold-down ended" })
	if ev.Actor != "damping" || ev.New != "up" {
		t.Errorf("release event %+v", ev)
	}
	if e := steerEndpoints(t, s, svc)["d1"]; e.Health.HeldUntil != nil || e.Health.State != "up" {
		t.Errorf("after the hold: %+v", e.Health)
	}
	if out := steerMustCLI(t, s, "events", "--service", svc); !steerHasLine(out, "d1", "damping", "flapping") || !steerHasLine(out, "d1", "damping", "hold-down ended") {
		t.Errorf("stratus events:\n%s", out)
	}
}
