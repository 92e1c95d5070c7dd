package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stratusdns/stratus/pkg/apiv1"
)

// steerOverrideSetup: pool a (priority 1, HTTP-checked) with a1 and a2 up
// and a3 down (nothing listens), pool b (priority 2, no check) with b1.
func steerOverrideSetup(t *testing.T) *server {
	t.Helper()
	const svc = "ov.fn.example.com"
	s := steerStart(t, "", "")
	steerZone(t, s, "fn.example.com")
	_, port := steerHTTPGroup(t, "127.0.0.15", "127.0.0.16")
	steerService(t, s, fmt.Sprintf(`{"name":"ov.fn.example.com","pools":[
		{"name":"a","priority":1,"check":{"type":"http","port":%d,"interval":"1s","fall":1,"rise":1}},
		{"name":"b","priority":2}]}`, port))
	for id, addr := range map[string]string{"a1": "127.0.0.15", "a2": "127.0.0.16", "a3": "127.0.0.17"} {
		steerEndpoint(t, s, svc, id, fmt.Sprintf(`{"pool":"a","address":%q}`, addr))
	}
	steerEndpoint(t, s, svc, "b1", `{"pool":"b","address":"127.0.0.18"}`)
	steerWaitState(t, s, svc, "a1", "up", 5*time.Second)
	steerWaitState(t, s, svc, "a2", "up", 5*time.Second)
	steerWaitState(t, s, svc, "a3", "down", 5*time.Second)
	return s
}

// TestSteerOverrides: `stratus pool drain` moves the answers off a pool at
// once and `undrain` brings them back; `pool force-up` answers a pool's
// endpoints whatever their checks say; `stratus endpoint override ...
// down|up|clear` does the same for one endpoint. The overrides show in
// pool list, endpoint list and the events, with the actor: the token's
// name, "admin".
func TestSteerOverrides(t *testing.T) {
	t.Parallel()
	const svc = "ov.fn.example.com"
	s := steerOverrideSetup(t)
	want := func(addrs string) {
		t.Helper()
		if r := steerA(t, s, svc); r.addrs() != addrs {
			t.Fatalf("answer %s, want %s", r, addrs)
		}
	}
	want("127.0.0.15,127.0.0.16")

	// Drain pool a.
	if out := steerMustCLI(t, s, "pool", "drain", svc, "a", "--reason", "maintenance"); !strings.Contains(out, "pool a of service ov.fn.example.com. drained") {
		t.Errorf("pool drain printed %q", out)
	}
	want("127.0.0.18")
	if out := steerMustCLI(t, s, "pool", "list", svc); !steerHasLine(out, "a", "down", "drained by admin: maintenance") || !steerHasLine(out, "b", "up", "1/1") {
		t.Errorf("pool list while a is drained:\n%s", out)
	}
	var got apiv1.Service
	steerGetJSON(t, s, "/v1/services/"+svc, &got)
	if o := got.Pools[0].Override; o == nil || o.State != "down" || o.Actor != "admin" || o.Reason != "maintenance" {
		t.Errorf("pool a override %+v", o)
	}
	ev, ok := steerFindEvent(steerEvents(t, s, svc), "pool:a", func(e apiv1.Event) bool { return e.New == "down" })
	if !ok || ev.Actor != "admin" || ev.Reason != "drained: maintenance" {
		t.Errorf("drain event %+v (found %v)", ev, ok)
	}
	if out := steerMustCLI(t, s, "events", "--service", svc); !steerHasLine(out, "pool a", "admin", "drained: maintenance") {
		t.Errorf("stratus events:\n%s", out)
	}
	steerMustCLI(t, s, "pool", "undrain", svc, "a")
	want("127.0.0.15,127.0.0.16")

	// Force pool a up: its down endpoint a3 is answered too.
	steerMustCLI(t, s, "pool", "force-up", svc, "a")
	want("127.0.0.15,127.0.0.16,127.0.0.17")
	steerMustCLI(t, s, "pool", "undrain", svc, "a")
	want("127.0.0.15,127.0.0.16")

	// One endpoint forced down, another (down by its check) forced up.
	if out := steerMustCLI(t, s, "endpoint", "override", svc, "a1", "down", "--reason", "bad deploy"); out != "endpoint a1 override: down\n" {
		t.Errorf("endpoint override printed %q", out)
	}
	want("127.0.0.16")
	steerMustCLI(t, s, "endpoint", "override", svc, "a3", "up")
	want("127.0.0.16,127.0.0.17")
	if out := steerMustCLI(t, s, "endpoint", "list", svc); !steerHasLine(out, "a1", "down by admin") || !steerHasLine(out, "a3", "up by admin") {
		t.Errorf("endpoint list with overrides:\n%s", out)
	}
	ev, ok = steerFindEvent(steerEvents(t, s, svc), "a1", func(e apiv1.Event) bool { return e.Actor == "admin" })
	if !ok || ev.New != "down" || ev.Reason != "forced down: bad deploy" {
		t.Errorf("endpoint override event %+v (found %v)", ev, ok)
	}
	eps := steerEndpoints(t, s, svc)
	if v := eps["a1"].Steering; v == nil || v.Answerable || !strings.Contains(v.Why, "forced down by admin") {
		t.Errorf("a1's steering verdict in the endpoint list: %+v", v)
	}
	if v := eps["a3"].Steering; v == nil || !v.Answerable {
		t.Errorf("a3's steering verdict in the endpoint list: %+v", v)
	}
	x := steerExplain(t, s, svc, "")
	if !steerRemoved(x, "health", "a1", "forced down by admin") {
		t.Errorf("explain with a1 forced down: %+v", x.Steps)
	}
	steerMustCLI(t, s, "endpoint", "override", svc, "a1", "clear")
	steerMustCLI(t, s, "endpoint", "override", svc, "a3", "clear")
	want("127.0.0.15,127.0.0.16")

	// Bad input.
	steerCLIFail(t, s, 2, "endpoint", "override", svc, "a1", "sideways")
	if msg := steerCLIFail(t, s, 3, "pool", "drain", svc, "nosuch"); !strings.Contains(msg, "nosuch") {
		t.Errorf("drain of an unknown pool: %q", msg)
	}
	steerCLIFail(t, s, 3, "endpoint", "override", svc, "nosuch", "down")
}

// TestSteerRegressionOverrideClearActor once showed that clearing an override does not
// record who cleared it: after `stratus pool undrain ov.fn.example.com a`
// and `stratus endpoint override ov.fn.example.com a1 clear`, run with the
// admin token, GET /v1/events has "override cleared" events with actor
// "operator" instead of "admin" (the override being set records "admin").
// The issue asks that manual overrides record the actor; an undrain is as
// much an operator's action as a drain.
func TestSteerRegressionOverrideClearActor(t *testing.T) {
	t.Parallel()
	const svc = "ov.fn.example.com"
	s := steerOverrideSetup(t)
	steerMustCLI(t, s, "pool", "drain", svc, "a")
	steerMustCLI(t, s, "pool", "undrain", svc, "a")
	steerMustCLI(t, s, "endpoint", "override", svc, "a1", "down")
	steerMustCLI(t, s, "endpoint", "override", svc, "a1", "clear")
	evs := steerEvents(t, s, svc)
	for _, who := range []string{"pool:a", "a1"} {
		ev, ok := steerFindEvent(evs, who, func(e apiv1.Event) bool { return strings.HasPrefix(e.Reason, "override cleared") })
		if !ok {
			t.Errorf("%s: no override cleared event: %+v", who, evs)
			continue
		}
		if ev.Actor != "admin" {
			t.Errorf("%s: the override cleared event has actor %q, want %q (the token that cleared it)", who, ev.Actor, "admin")
		}
	}
}
