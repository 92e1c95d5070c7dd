package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stratusdns/stratus/pkg/apiv1"
)

// steerLeaseService creates a multivalue service whose pool "reg" holds
// registered endpoints (no check: the lease decides) and whose pool
// "static" (priority 2) holds 127.0.0.12, answered once reg is empty.
func steerLeaseService(t *testing.T, s *server, svc string) {
	t.Helper()
	steerService(t, s, `{"name":"`+svc+`","policy":"failover","pools":[{"name":"reg","priority":1},{"name":"static","priority":2}]}`)
	steerEndpoint(t, s, svc, "s1", `{"pool":"static","address":"127.0.0.12"}`)
}

// steerRegister registers an endpoint with a lease through the CLI and
// returns it (-o json).
func steerRegister(t *testing.T, s *server, svc, id, addr, ttl string) apiv1.Endpoint {
	t.Helper()
	out := steerMustCLI(t, s, "endpoint", "register", svc, id, "--pool", "reg", "--address", addr, "--ttl", ttl, "-o", "json")
	var e apiv1.Endpoint
	if err := json.Unmarshal([]byte(out), &e); err != nil {
		t.Fatalf("register -o json: %v\n%s", err, out)
	}
	want, _ := time.ParseDuration(ttl)
	if got, err := time.ParseDuration(e.TTL); err != nil || got != want || e.Expires == nil {
		t.Fatalf("register: %s", out)
	}
	return e
}

// TestSteerLeases: an endpoint registered with a 5s lease (CLI --ttl 5s)
// is answered at once, stays answered until its lease, leaves the answers
// after it without renewal and is then reaped from the endpoint list (with
// a lease event); renewing keeps it; deregistering removes it at the next
// query. The leases leave seconds for a loaded machine to register, query
// and renew within them.
func TestSteerLeases(t *testing.T) {
	t.Parallel()
	const svc = "lease.fn.example.com"
	s := steerStart(t, "", "")
	steerZone(t, s, "fn.example.com")
	steerLeaseService(t, s, svc)

	l1 := steerRegister(t, s, svc, "l1", "127.0.0.11", "5s")
	if r := steerA(t, s, svc); r.addrs() != "127.0.0.11" {
		t.Fatalf("just registered: %s, want 127.0.0.11", r)
	}
	// Answered until the lease, gone after it.
	var gone time.Time
	steerWait(t, 4*time.Second, "l1 leaves the answers", func() (bool, string) {
		now := time.Now()
		r := steerA(t, s, svc)
		switch r.addrs() {
		case "127.0.0.11":
			return false, r.String()
		case "127.0.0.12":
			gone = now
			return true, ""
		}
		t.Fatalf("lease: unexpected answer %s", r)
		return false, ""
	})
	late := gone.Sub(*l1.Expires)
	t.Logf("l1 left the answers %v after its lease expired", late.Round(time.Millisecond))
	if late < -100*time.Millisecond {
		t.Errorf("l1 left the answers %v after its lease (expires %v), before the lease was over", late, l1.Expires)
	}
	steerWait(t, 3*time.Second, "l1 reaped from the endpoint list", func() (bool, string) {
		_, ok := steerEndpoints(t, s, svc)["l1"]
		return !ok, ""
	})
	ev := steerWaitEvent(t, s, svc, "l1", time.Second, "lease lapse event", func(e apiv1.Event) bool { return e.Actor == "lease" })
	if ev.New != "down" || !strings.Contains(ev.Reason, "lease of 5s lapsed") {
		t.Errorf("lease event %+v", ev)
	}
	// Renewing a lapsed (and reaped) lease is refused: register again.
	steerCLIFail(t, s, 3, "endpoint", "renew", svc, "l1")

	// Renewed every 500ms for 9s, an 8s lease stays answered (a renewal
	// through the CLI can take seconds on a loaded machine).
	steerRegister(t, s, svc, "l2", "127.0.0.13", "8s")
	end := time.Now().Add(9 * time.Second)
	next := time.Now()
	for time.Now().Before(end) {
		if time.Now().After(next) {
			if out := steerMustCLI(t, s, "endpoint", "renew", svc, "l2"); !strings.Contains(out, "endpoint l2 renewed; lease 8s, until") {
				t.Errorf("renew printed %q", out)
			}
			next = time.Now().Add(500 * time.Millisecond)
		}
		if r := steerA(t, s, svc); r.addrs() != "127.0.0.13" {
			t.Fatalf("a renewed lease left the answers: %s", r)
		}
		time.Sleep(steerPoll)
	}
	// Deregistered: gone at the next query.
	steerMustCLI(t, s, "endpoint", "deregister", svc, "l2")
	if r := steerA(t, s, svc); r.addrs() != "127.0.0.12" {
		t.Errorf("deregistered l2 is still answered: %s", r)
	}
	if _, ok := steerEndpoints(t, s, svc)["l2"]; ok {
		t.Errorf("deregistered l2 is still listed")
	}

	// Registering is idempotent by id: again is a renewal (200, same
	// creation time).
	first := steerEndpoint(t, s, svc, "l3", `{"pool":"reg","address":"127.0.0.14","ttl":"30s"}`)
	st, body := s.api("PUT", "/v1/services/"+svc+"/endpoints/l3", `{"pool":"reg","address":"127.0.0.14","ttl":"30s"}`)
	var again apiv1.Endpoint
	json.Unmarshal([]byte(body), &again)
	if st != http.StatusOK || again.Created == nil || !again.Created.Equal(*first.Created) || !again.Expires.After(*first.Expires) {
		t.Errorf("registering again: %d %s (first %+v)", st, body, first)
	}
}

// TestSteerLeaseRestart: leases survive a restart. An endpoint registered
// with a 3s lease is not answered when the server comes back after the
// lease lapsed while it was down, and is reaped within a couple of
// seconds; an endpoint renewed before the stop with a long lease is
// answered after the restart.
func TestSteerLeaseRestart(t *testing.T) {
	t.Parallel()
	const svc = "lease.fn.example.com"
	dataDir := t.TempDir()
	s := steerStart(t, dataDir, "")
	steerZone(t, s, "fn.example.com")
	steerService(t, s, `{"name":"`+svc+`","policy":"multivalue","pools":[{"name":"reg"}]}`)
	short := steerRegister(t, s, svc, "short", "127.0.0.14", "3s")
	steerRegister(t, s, svc, "long", "127.0.0.15", "1h")
	steerMustCLI(t, s, "endpoint", "renew", svc, "long")
	if r := steerA(t, s, svc); r.addrs() != "127.0.0.14,127.0.0.15" {
		t.Fatalf("before the stop: %s", r)
	}
	steerStop(t, s)
	// Nothing to poll while the server is down: wait out the lease.
	time.Sleep(time.Until(short.Expires.Add(200 * time.Millisecond)))

	s2 := steerStart(t, dataDir, "")
	if r := steerA(t, s2, svc); r.addrs() != "127.0.0.15" {
		t.Errorf("right after the restart: %s, want only the long lease 127.0.0.15", r)
	}
	steerWait(t, 3*time.Second, "the lapsed endpoint reaped after the restart", func() (bool, string) {
		eps := steerEndpoints(t, s2, svc)
		_, ok := eps["short"]
		return !ok, ""
	})
	long, ok := steerEndpoints(t, s2, svc)["long"]
	if !ok || long.Expires == nil || time.Until(*long.Expires) < 50*time.Minute {
		t.Errorf("the long lease after the restart: %+v", long)
	}
	if _, ok := steerFindEvent(steerEvents(t, s2, svc), "short", func(e apiv1.Event) bool { return e.Actor == "lease" }); !ok {
		t.Errorf("no lease event for the lapsed endpoint after the restart: %+v", steerEvents(t, s2, svc))
	}
}
