package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stratusdns/stratus/pkg/apiv1"
)

// TestSteerFailoverHTTP: a failover service with HTTP checks (interval 1s,
// fall 2, rise 2). The primary pool is answered; a single failed probe
// changes nothing; killing the primary's HTTP server moves the answer to
// the backup pool, with the degraded TTL; restarting it on the same
// address and port brings it back after rise successes. Events (API and
// CLI) and the endpoint list say what happened and why.
func TestSteerFailoverHTTP(t *testing.T) {
	t.Parallel()
	const svc = "api.fn.example.com"
	s := steerStart(t, "", "")
	steerZone(t, s, "fn.example.com")
	hs, port := steerHTTPGroup(t, "127.0.0.2", "127.0.0.3")
	primary := hs["127.0.0.2"]

	file := steerWrite(t, "svc.yaml", fmt.Sprintf(`name: api.fn.example.com
ttl: 20
policy: failover
pools:
  - name: primary
    priority: 1
    check: {type: http, path: /healthz, port: %d, interval: 1s, fall: 2, rise: 2}
  - name: backup
    priority: 2
    check: {type: http, path: /healthz, port: %d, interval: 1s, fall: 2, rise: 2}
`, port, port))
	if out := steerMustCLI(t, s, "service", "create", "-f", file); !strings.Contains(out, "created") {
		t.Errorf("service create printed %q", out)
	}
	steerMustCLI(t, s, "endpoint", "register", svc, "p1", "--pool", "primary", "--address", "127.0.0.2")
	steerMustCLI(t, s, "endpoint", "register", svc, "b1", "--pool", "backup", "--address", "127.0.0.3")
	steerWaitState(t, s, svc, "p1", "up", 5*time.Second)
	steerWaitState(t, s, svc, "b1", "up", 5*time.Second)

	status, answer, _ := steerDigParse(t, steerDig(t, s, svc, "A"))
	if status != "NOERROR" || len(answer) != 1 || answer[0] != "api.fn.example.com. 20 IN A 127.0.0.2" {
		t.Fatalf("healthy: dig A = %s %q, want the primary 127.0.0.2 with the service TTL 20", status, answer)
	}

	// One failed probe (a wrong status: a soft failure) never changes the
	// answer with fall 2.
	primary.failNext.Store(1) // exactly one: a slow test cannot let two through
	steerWait(t, 5*time.Second, "a probe sees the 503", func() (bool, string) {
		return primary.failNext.Load() == 0, ""
	})
	settle := primary.hits.Load()
	steerWait(t, 5*time.Second, "the next probe succeeds", func() (bool, string) {
		if r := steerA(t, s, svc); r.addrs() != "127.0.0.2" {
			t.Fatalf("one failed probe changed the answer: %s", r)
		}
		return primary.hits.Load() > settle, ""
	})
	if _, ok := steerFindEvent(steerEvents(t, s, svc), "p1", func(e apiv1.Event) bool { return e.New == "down" }); ok {
		t.Fatalf("one failed probe took p1 down: %+v", steerEvents(t, s, svc))
	}

	// Kill the primary: the backup is answered within seconds (a refused
	// connection is confirmed by an immediate re-probe).
	start := time.Now()
	primary.Stop()
	steerWaitA(t, s, svc, "127.0.0.3", 5*time.Second)
	t.Logf("primary killed: backup answered after %v", time.Since(start).Round(time.Millisecond))
	if r := steerA(t, s, svc); r.TTL != 10 {
		t.Errorf("while the primary pool is down the TTL is %d, want the degraded TTL 10", r.TTL)
	}
	status, answer, _ = steerDigParse(t, steerDig(t, s, svc, "A"))
	if status != "NOERROR" || len(answer) != 1 || !strings.HasSuffix(answer[0], "IN A 127.0.0.3") {
		t.Fatalf("primary down: dig A = %s %q, want the backup 127.0.0.3", status, answer)
	}

	// The endpoint list says why.
	e := steerWaitState(t, s, svc, "p1", "down", 5*time.Second)
	if e.Health.LastError != "connection refused" {
		t.Errorf("p1 last error %q, want %q", e.Health.LastError, "connection refused")
	}
	var list apiv1.EndpointList
	if err := json.Unmarshal([]byte(steerMustCLI(t, s, "endpoint", "list", svc, "-o", "json")), &list); err != nil {
		t.Fatal(err)
	}
	for _, e := range list.Endpoints {
		switch {
		case e.Health == nil:
			t.Errorf("endpoint list -o json: %s has no health", e.ID)
		case e.ID == "p1" && (e.Health.State != "down" || e.Health.LastError != "connection refused"):
			t.Errorf("endpoint list -o json: p1 health %+v, want down with connection refused", *e.Health)
		case e.ID == "b1" && (e.Health.State != "up" || e.Health.LastError != "" || e.Health.RTT == ""):
			t.Errorf("endpoint list -o json: b1 health %+v, want up with an RTT", *e.Health)
		}
	}
	table := steerMustCLI(t, s, "endpoint", "list", svc)
	if !steerHasLine(table, "p1", "primary", "127.0.0.2", "down", "connection refused") ||
		!steerHasLine(table, "b1", "backup", "127.0.0.3", "up") || !strings.Contains(table, "WHY") {
		t.Errorf("endpoint list:\n%s", table)
	}

	// Events: up -> down with the failure, through the API and the CLI.
	ev := steerWaitEvent(t, s, svc, "p1", time.Second, "p1 up -> down event", func(e apiv1.Event) bool {
		return e.Old == "up" && e.New == "down"
	})
	if ev.Actor != "check" || !strings.Contains(ev.Reason, "connection refused") || !strings.Contains(ev.Reason, "2 consecutive failures") {
		t.Errorf("up -> down event %+v: want actor check and a reason naming 2 consecutive failures: connection refused", ev)
	}
	if ev.Service != "api.fn.example.com." || ev.Time.Before(start.Add(-time.Second)) {
		t.Errorf("up -> down event %+v", ev)
	}
	if out := steerMustCLI(t, s, "events", "--service", svc); !steerHasLine(out, "p1", "up -> down", "check", "2 consecutive failures: connection refused") {
		t.Errorf("stratus events:\n%s", out)
	}

	// Restart the primary on the same address and port: back after rise
	// (2) successes.
	restart := time.Now()
	primary.Start()
	steerWaitA(t, s, svc, "127.0.0.2", 6*time.Second)
	t.Logf("primary restarted: answered again after %v", time.Since(restart).Round(time.Millisecond))
	ev = steerWaitEvent(t, s, svc, "p1", time.Second, "p1 down -> up event", func(e apiv1.Event) bool {
		return e.Old == "down" && e.New == "up" && e.Time.After(restart)
	})
	if ev.Actor != "check" || ev.Reason != "2 consecutive successes" {
		t.Errorf("down -> up event %+v: want actor check, reason \"2 consecutive successes\"", ev)
	}
	if out := steerMustCLI(t, s, "events", "--service", svc); !steerHasLine(out, "p1", "down -> up", "check", "2 consecutive successes") {
		t.Errorf("stratus events:\n%s", out)
	}
	steerWait(t, 3*time.Second, "the TTL is back to 20", func() (bool, string) {
		r := steerA(t, s, svc)
		return r.TTL == 20, r.String()
	})
	if _, ok := primary.hosts.Load(fmt.Sprintf("127.0.0.2:%d", port)); !ok {
		t.Errorf("the probe's Host header was not 127.0.0.2:%d", port)
	}
}

// steerHasLine reports whether some line of out contains every part.
func steerHasLine(out string, parts ...string) bool {
	for _, l := range strings.Split(out, "\n") {
		ok := true
		for _, p := range parts {
			if !strings.Contains(l, p) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}
