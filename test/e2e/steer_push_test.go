package e2e

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stratusdns/stratus/pkg/apiv1"
)

// TestSteerPush: a pool checked by push. `stratus endpoint report SVC ID
// down` takes the endpoint out of the answers at once (within a second
// here: see TestSteerRegressionPushNotOnNextQuery), `up` brings it back, and a report expires after push_ttl (the endpoint goes
// down). Reports for endpoints of other pools are refused.
func TestSteerPush(t *testing.T) {
	t.Parallel()
	const svc = "push.fn.example.com"
	s := steerStart(t, "", rrlExemptLoopback) // 200 queries of one name in a few seconds
	steerZone(t, s, "fn.example.com")
	steerService(t, s, `{"name":"push.fn.example.com","pools":[
		{"name":"pushed","priority":1,"check":{"type":"push","push_ttl":"2s"}},
		{"name":"backup","priority":2}]}`)
	steerEndpoint(t, s, svc, "p1", `{"pool":"pushed","address":"127.0.0.13"}`)
	steerEndpoint(t, s, svc, "b1", `{"pool":"backup","address":"127.0.0.14"}`)
	// No report yet: cold start (healthy by default).
	if r := steerA(t, s, svc); r.addrs() != "127.0.0.13" {
		t.Fatalf("before any report: %s", r)
	}

	// (That the very next query sees a report is
	// TestSteerRegressionPushNotOnNextQuery; here a report must show within a
	// second.)
	for range 3 {
		if out := steerMustCLI(t, s, "endpoint", "report", svc, "p1", "down", "--reason", "draining"); !strings.Contains(out, "endpoint p1 reported down") {
			t.Errorf("report printed %q", out)
		}
		steerWaitA(t, s, svc, "127.0.0.14", time.Second)
		steerMustCLI(t, s, "endpoint", "report", svc, "p1", "up")
		steerWaitA(t, s, svc, "127.0.0.13", time.Second)
	}
	steerMustCLI(t, s, "endpoint", "report", svc, "p1", "down", "--reason", "draining")
	steerWaitA(t, s, svc, "127.0.0.14", time.Second)
	if e := steerEndpoints(t, s, svc)["p1"]; e.Health == nil || e.Health.State != "down" || e.Health.LastError != "draining" {
		t.Errorf("after a down report: %+v", e.Health)
	}
	ev, ok := steerFindEvent(steerEvents(t, s, svc), "p1", func(e apiv1.Event) bool { return e.New == "down" })
	if !ok || ev.Actor != "push" || ev.Reason != "push: draining" {
		t.Errorf("down report event %+v", ev)
	}

	// Expiry: an up report holds for push_ttl (2s), then p1 goes down.
	before := time.Now()
	steerMustCLI(t, s, "endpoint", "report", svc, "p1", "up")
	var gone time.Time
	steerWait(t, 4*time.Second, "the up report expires", func() (bool, string) {
		now := time.Now()
		r := steerA(t, s, svc)
		if r.addrs() == "127.0.0.14" {
			gone = now
			return true, ""
		}
		return false, r.String()
	})
	if gone.Before(before.Add(2*time.Second - 50*time.Millisecond)) {
		t.Errorf("the 2s push report expired %v after it was sent, before its 2s were over", gone.Sub(before))
	}
	t.Logf("push report expired after %v", gone.Sub(before).Round(time.Millisecond))
	ev = steerWaitEvent(t, s, svc, "p1", time.Second, "expiry event", func(e apiv1.Event) bool { return e.Reason == "push report expired" })
	if ev.Actor != "push" || ev.Old != "up" || ev.New != "down" {
		t.Errorf("expiry event %+v", ev)
	}

	// Reports only for push pools; only up or down.
	if msg := steerCLIFail(t, s, 2, "endpoint", "report", svc, "b1", "up"); !strings.Contains(msg, "push") {
		t.Errorf("report for a pool without push checks: %q", msg)
	}
	if msg := steerCLIFail(t, s, 2, "endpoint", "report", svc, "p1", "sideways"); !strings.Contains(msg, "sideways") {
		t.Errorf("report sideways: %q", msg)
	}
	steerCLIFail(t, s, 3, "endpoint", "report", svc, "nosuch", "up")
}

// TestSteerRegressionPushNotOnNextQuery once showed that a push report is not always
// visible to the next DNS query: POST /v1/services/SVC/endpoints/p1/health
// {"up":false} answers 200, but a query sent right after it often still
// gets p1 (about half the time with 400 other endpoints configured, a few
// times in a hundred with none). The API returns once the
// checker has recorded the report; the steering snapshot is rebuilt later
// by the checker's notifier goroutine (OnChange -> HealthChanged), so the
// 200 does not mean "served", unlike every store write (README: "a 2xx
// means ... already served by the DNS server"). The issue asks that
// "push-down ... show on the next query". Expected: 0 misses.
func TestSteerRegressionPushNotOnNextQuery(t *testing.T) {
	t.Parallel()
	const svc = "push.fn.example.com"
	s := steerStart(t, "", rrlExemptLoopback) // 200 queries of one name in a few seconds
	steerZone(t, s, "fn.example.com")
	steerService(t, s, `{"name":"push.fn.example.com","pools":[
		{"name":"pushed","priority":1,"check":{"type":"push","push_ttl":"1h"}},
		{"name":"backup","priority":2}]}`)
	steerEndpoint(t, s, svc, "p1", `{"pool":"pushed","address":"127.0.0.13"}`)
	steerEndpoint(t, s, svc, "b1", `{"pool":"backup","address":"127.0.0.14"}`)
	// Some more endpoints (in a pool never answered) make each rebuild of
	// the steering state take longer, as in a real deployment, so that
	// the window is seen reliably.
	steerService(t, s, `{"name":"other.fn.example.com","pools":[{"name":"many"}]}`)
	steerBulkRegister(t, s, "other.fn.example.com", "many", 400)
	misses := 0
	for range 100 {
		for _, up := range []bool{false, true} {
			body, want := `{"up":false,"reason":"x"}`, "127.0.0.14"
			if up {
				body, want = `{"up":true}`, "127.0.0.13"
			}
			if st, b := s.api("POST", "/v1/services/"+svc+"/endpoints/p1/health", body); st != 200 {
				t.Fatalf("push: %d %s", st, b)
			}
			if r := steerA(t, s, svc); r.addrs() != want {
				misses++
			}
		}
	}
	if misses > 0 {
		t.Errorf("%d of 200 queries sent right after a push report (200 OK) did not reflect it", misses)
	}
}

// steerBulkRegister registers n endpoints (192.0.2.x, 198.51.100.x, ...)
// in pool, eight at a time.
func steerBulkRegister(t *testing.T, s *server, svc, pool string, n int) {
	t.Helper()
	token := s.token()
	errs := make(chan error, n)
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			body := fmt.Sprintf(`{"pool":%q,"address":"10.%d.%d.%d"}`, pool, i/65536%256, i/256%256, i%256)
			req, _ := http.NewRequest("PUT", fmt.Sprintf("http://%s/v1/services/%s/endpoints/bulk-%d", s.apiAddr, svc, i), strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+token)
			res, err := http.DefaultClient.Do(req)
			if err == nil {
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusCreated {
					err = fmt.Errorf("register bulk-%d: %s", i, res.Status)
				}
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}
