package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestSteerColdStart: what an endpoint counts as before its first check
// result, per cold_start mode. Each service has a checked pool "main"
// (priority 1) and an unchecked pool "backup" (127.0.0.9, priority 2), so
// the answer says whether main's endpoint counts as up.
//
// To have no check result for a while, "healthy" and "wait" check an HTTP
// endpoint that accepts connections and never answers, with a 10s
// timeout: the probe can only end (as a failure) after 10s. A port nobody
// listens on would not do: a refused connection is a result (a failure,
// at once), and so would be a short timeout.
//
//   - healthy (the default): answered at once, without a result.
//   - down: not answered until a check succeeds; its endpoint answers 503
//     at first, so the first result is a failure and nothing is answered,
//     then 200.
//   - wait (5s): not answered for 5s, then answered although still
//     without a result.
//
// The times leave a loaded machine seconds to look before they are up: a
// wait of 5s, and checks that take 30s to time out.
func TestSteerColdStart(t *testing.T) {
	t.Parallel()
	s := steerStart(t, "", "")
	steerZone(t, s, "fn.example.com")
	hole := steerTCPOn(t, "127.0.0.3", 0)
	live := steerHTTPOn(t, "127.0.0.2", 0)
	live.status.Store(503)
	slow := fmt.Sprintf(`{"type":"http","port":%d,"interval":"30s","timeout":"30s"}`, hole.Port)
	for _, c := range []struct{ name, cold, check string }{
		{"healthy", ``, slow},
		{"down", `"cold_start":{"mode":"down"},`, fmt.Sprintf(`{"type":"http","port":%d,"interval":"1s","rise":1,"fall":1}`, live.Port)},
		{"wait", `"cold_start":{"mode":"wait","wait":"5s"},`, slow},
	} {
		svc := c.name + ".fn.example.com"
		steerService(t, s, fmt.Sprintf(`{"name":%q,%s"pools":[{"name":"main","priority":1,"check":%s},{"name":"backup","priority":2}]}`, svc, c.cold, c.check))
		steerEndpoint(t, s, svc, "b1", `{"pool":"backup","address":"127.0.0.9"}`)
	}

	// healthy: answered at once, with no result.
	steerEndpoint(t, s, "healthy.fn.example.com", "e1", `{"pool":"main","address":"127.0.0.3"}`)
	if r := steerA(t, s, "healthy.fn.example.com"); r.addrs() != "127.0.0.3" {
		t.Errorf("cold start healthy: %s, want 127.0.0.3 at once", r)
	}
	x := steerExplain(t, s, "healthy.fn.example.com", "")
	if !strings.Contains(strings.Join(x.Answer, ","), "127.0.0.3") {
		t.Errorf("cold start healthy: explain answer %q", x.Answer)
	}

	// down: not answered before a successful check.
	const down = "down.fn.example.com"
	steerEndpoint(t, s, down, "e1", `{"pool":"main","address":"127.0.0.2"}`)
	if r := steerA(t, s, down); r.addrs() != "127.0.0.9" {
		t.Errorf("cold start down, just registered: %s, want the backup", r)
	}
	if x := steerExplain(t, s, down, ""); !steerRemoved(x, "health", "e1", "cold start: down") && !steerRemoved(x, "health", "e1", "check: down") {
		t.Errorf("cold start down: explain %+v", x.Steps)
	}
	steerWait(t, 3*time.Second, "the first probe", func() (bool, string) { return live.hits.Load() > 0, "" })
	if r := steerA(t, s, down); r.addrs() != "127.0.0.9" {
		t.Errorf("cold start down, first check failed: %s, want the backup", r)
	}
	live.status.Store(200)
	steerWaitA(t, s, down, "127.0.0.2", 3*time.Second)
	if e := steerEndpoints(t, s, down)["e1"]; e.Health == nil || e.Health.State != "up" || e.Health.LastCheck == nil {
		t.Errorf("cold start down: answered with health %+v, want a successful check", e.Health)
	}

	// wait: down for 5s, then up without a result.
	const wait = "wait.fn.example.com"
	e := steerEndpoint(t, s, wait, "e1", `{"pool":"main","address":"127.0.0.3"}`)
	if r := steerA(t, s, wait); r.addrs() != "127.0.0.9" {
		t.Errorf("cold start wait, just registered: %s, want the backup", r)
	}
	if x := steerExplain(t, s, wait, ""); !steerRemoved(x, "health", "e1", "cold start: waiting") {
		t.Errorf("cold start wait: explain %+v", x.Steps)
	}
	var up time.Time
	steerWait(t, 4*time.Second, "cold start wait ends", func() (bool, string) {
		now := time.Now()
		r := steerA(t, s, wait)
		if r.addrs() == "127.0.0.3" {
			up = now
			return true, ""
		}
		return false, r.String()
	})
	after := up.Sub(*e.Created)
	t.Logf("cold start wait 5s: answered %v after registration", after.Round(time.Millisecond))
	if after < 4950*time.Millisecond {
		t.Errorf("cold start wait 5s: answered %v after registration, before the wait was over", after)
	}
	if e := steerEndpoints(t, s, wait)["e1"]; e.Health == nil || e.Health.State != "unknown" || e.Health.LastCheck != nil {
		t.Errorf("cold start wait: health %+v, want still no result", e.Health)
	}
	if x := steerExplain(t, s, wait, ""); strings.Join(x.Answer, ",") != "A 127.0.0.3" {
		t.Errorf("cold start wait over: explain answer %q", x.Answer)
	}
}
