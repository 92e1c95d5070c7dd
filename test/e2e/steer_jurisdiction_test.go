package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestSteerJurisdiction: a service restricted to the eu jurisdiction never
// answers its us pool, although the us pool has the best priority; with
// the eu pool down it fails open within the EU (the down eu endpoint is
// answered, never the us one), and explain shows the jurisdiction filter
// removing the us endpoint. A fallback pool outside the jurisdictions is
// refused.
func TestSteerJurisdiction(t *testing.T) {
	t.Parallel()
	const svc = "eu.fn.example.com"
	s := steerStart(t, "", rrlExemptLoopback) // 150 queries of one name back to back
	steerZone(t, s, "fn.example.com")
	eu := steerHTTPOn(t, "127.0.0.2", 0)
	steerService(t, s, fmt.Sprintf(`{"name":"eu.fn.example.com","jurisdictions":["eu"],"pools":[
		{"name":"us","jurisdiction":"us","priority":0},
		{"name":"eu","jurisdiction":"eu","priority":1,"check":{"type":"http","port":%d,"interval":"1s","fall":2,"rise":2}}]}`, eu.Port))
	steerEndpoint(t, s, svc, "us1", `{"pool":"us","address":"127.0.0.3"}`)
	steerEndpoint(t, s, svc, "eu1", `{"pool":"eu","address":"127.0.0.2"}`)
	steerWaitState(t, s, svc, "eu1", "up", 5*time.Second)

	never := func(when string) {
		t.Helper()
		for range 50 {
			if r := steerA(t, s, svc); r.addrs() != "127.0.0.2" {
				t.Fatalf("%s: answered %s, want only the eu endpoint 127.0.0.2", when, r)
			}
		}
	}
	never("eu up")

	eu.Stop()
	steerWaitState(t, s, svc, "eu1", "down", 5*time.Second)
	never("eu down")
	status, answer, _ := steerDigParse(t, steerDig(t, s, svc, "A"))
	if status != "NOERROR" || len(answer) != 1 || !strings.HasSuffix(answer[0], "IN A 127.0.0.2") {
		t.Errorf("eu down: dig %s %q, want the eu endpoint (fail open within the EU)", status, answer)
	}

	x := steerExplain(t, s, svc, "client=192.0.2.1")
	if !steerRemoved(x, "jurisdiction", "us1", `jurisdiction "us"`) {
		t.Errorf("explain: the jurisdiction step does not remove us1: %+v", x.Steps)
	}
	if !strings.Contains(x.AllDown, "failing open") || strings.Join(x.Answer, ",") != "A 127.0.0.2" {
		t.Errorf("explain: all_down %q answer %q", x.AllDown, x.Answer)
	}
	out := steerMustCLI(t, s, "service", "explain", svc, "--client", "192.0.2.1")
	if !strings.Contains(out, "us1 (pool us): pool us is in jurisdiction \"us\", not one of eu") || !strings.Contains(out, "127.0.0.2") {
		t.Errorf("service explain:\n%s", out)
	}

	// A fallback pool outside the jurisdictions is refused.
	st, body := s.api("PUT", "/v1/services/"+svc, fmt.Sprintf(`{"jurisdictions":["eu"],"when_all_down":{"mode":"fallback","pool":"us"},"pools":[
		{"name":"us","jurisdiction":"us"},
		{"name":"eu","jurisdiction":"eu","check":{"type":"http","port":%d}}]}`, eu.Port))
	if e := steerAPIError(t, body); st != http.StatusBadRequest || e.Field != "when_all_down.pool" || !strings.Contains(e.Message, "jurisdiction") {
		t.Errorf("fallback pool outside the jurisdictions: %d %s", st, body)
	}
	never("after the refused update")
}

// TestSteerRegressionJurisdictionChainWithoutFilter once showed that a service
// restricted to jurisdictions but given an explicit chain without the
// "jurisdiction" filter is accepted and then answers outside its
// jurisdictions: POST /v1/services with "jurisdictions":["eu"] and
// "chain":["health","priority","first_n:1"] succeeds (201), and dig A
// answers the us endpoint. Expected: the jurisdiction constraint holds
// whatever the chain (the issue: "never answers outside them"), either by
// applying it always or by refusing such a chain (400 naming "chain").
func TestSteerRegressionJurisdictionChainWithoutFilter(t *testing.T) {
	t.Parallel()
	const svc = "chain.fn.example.com"
	s := steerStart(t, "", "")
	steerZone(t, s, "fn.example.com")
	st, body := s.api("POST", "/v1/services", `{"name":"chain.fn.example.com","jurisdictions":["eu"],
		"chain":["health","priority","first_n:1"],"pools":[
		{"name":"us","jurisdiction":"us","priority":0},{"name":"eu","jurisdiction":"eu","priority":1}]}`)
	if st == http.StatusBadRequest {
		if e := steerAPIError(t, body); e.Field != "chain" {
			t.Errorf("refused, but naming %q: %s", e.Field, body)
		}
		return
	}
	if st != http.StatusCreated {
		t.Fatalf("create: %d %s", st, body)
	}
	steerEndpoint(t, s, svc, "us1", `{"pool":"us","address":"127.0.0.3"}`)
	steerEndpoint(t, s, svc, "eu1", `{"pool":"eu","address":"127.0.0.2"}`)
	if r := steerA(t, s, svc); r.addrs() != "127.0.0.2" {
		t.Errorf("jurisdictions [eu] with chain [health priority first_n:1]: dig A answers %s, outside the jurisdiction (want 127.0.0.2)", r)
	}
}
