package api

import (
	"context"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/auth"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/control/controltest"
	"github.com/stratusdns/stratus/internal/health"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

// TestExpiringTokenAdmin: a token that expires creates only tokens that
// expire no later (403 naming both times otherwise, and nothing is
// created), and cannot delete the last token administering tokens that
// never expires (409).
func TestExpiringTokenAdmin(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	svc, _ := controltest.New(t, control.Options{Clock: func() time.Time { return now }})
	admin, rec, err := svc.Tokens.CreateToken(context.Background(), "admin", []string{"*"}, auth.Local("test"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(New(PlaneControl(svc), Options{}))
	t.Cleanup(srv.Close)
	e := &apiEnv{srv: srv, svc: svc, admin: admin}
	temp := e.issue(t, admin, apiv1.CreateTokenRequest{Name: "temp", Scopes: []string{"*"}, Expires: now.Add(time.Hour)})
	for _, tc := range []struct {
		body   string
		status int
		msg    string
	}{
		{`{"name":"forever","scopes":["tokens:admin"]}`, 403,
			`token "temp" expires at 2026-11-26T13:00:00Z: it cannot create a token that never expires; give it an expiry no later than 2026-11-26T13:00:00Z`},
		{`{"name":"later","scopes":["tokens:admin"],"expires":"2026-11-26T14:00:00Z"}`, 403,
			`token "temp" expires at 2026-11-26T13:00:00Z: it cannot create a token that expires at 2026-11-26T14:00:00Z; give it an expiry no later than 2026-11-26T13:00:00Z`},
		{`{"name":"sooner","scopes":["zones:read"],"expires":"2026-11-26T12:30:00Z"}`, 201, ""},
	} {
		r := e.do(t, "POST", "/v1/tokens", temp, tc.body)
		if r.status != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.body, r.status, r.body, tc.status)
			continue
		}
		if tc.status == 403 {
			if ae := r.apiError(t); ae.Code != apiv1.CodePermissionDenied || ae.Message != tc.msg {
				t.Errorf("%s: %s, want %q", tc.body, r.body, tc.msg)
			}
		}
	}
	var names []string
	for _, tk := range e.tokenList(t) {
		names = append(names, tk.Name)
	}
	if !slices.Equal(names, []string{"admin", "sooner", "temp"}) {
		t.Errorf("tokens %v", names)
	}
	r := e.do(t, "DELETE", "/v1/tokens/"+rec.ID, temp, "")
	if ae := r.apiError(t); r.status != 409 || !strings.Contains(ae.Message, "last token that can administer tokens and never expires") {
		t.Errorf("the expiring admin deleting the permanent one: %d %s", r.status, r.body)
	}
}

// TestBoundTokenEventsAndEvaluate: GET /v1/events shows a token bound to
// pools only its pools' endpoint and override events (an endpoint no
// longer registered: none), and a token bound to zones only the DNS
// anomalies of its zones; a token bound to pools cannot evaluate a
// service's answers, which show every pool's endpoints.
func TestBoundTokenEventsAndEvaluate(t *testing.T) {
	svc, _ := controltest.New(t, control.Options{})
	admin, _, err := svc.Tokens.CreateToken(context.Background(), "admin", []string{"*"}, auth.Local("test"))
	if err != nil {
		t.Fatal(err)
	}
	evs := fakeEvents{
		{Seq: 1, Key: "api.example.com.|a", Old: health.Up, New: health.Down, Actor: "check"},
		{Seq: 2, Key: "api.example.com.|b", Old: health.Up, New: health.Down, Actor: "check"},
		{Seq: 3, Key: "api.example.com.|pool:q", Actor: "alice"},
		{Seq: 4, Key: "api.example.com.|pool:p", Actor: "alice"},
		{Seq: 5, Key: "web.example.com.|w", Old: health.Down, New: health.Up, Actor: "push"},
		{Seq: 6, Key: "api.example.com.|gone", Old: health.Up, New: health.Down, Actor: "lease"},
		{Seq: 7, Key: "node:b", Actor: "quorum"},
		{Seq: 8, Key: "zone:example.com.", Actor: "anomaly"},
		{Seq: 9, Key: "zone:example.org.", Actor: "anomaly"},
		{Seq: 10, Key: "name:www.example.com.", Actor: "anomaly"},
		{Seq: 11, Key: "name:www.example.org.", Actor: "anomaly"},
		{Seq: 12, Key: "name:hash-1f", Actor: "anomaly"},
		{Seq: 13, Key: "name:www.example.net.", Actor: "anomaly"},
		{Seq: 14, Key: "name:a.sub.example.com.", Actor: "anomaly"},
	}
	srv := httptest.NewServer(New(PlaneControl(svc), Options{Health: evs}))
	t.Cleanup(srv.Close)
	e := &apiEnv{srv: srv, svc: svc, admin: admin}
	for _, req := range []struct{ method, path, body string }{
		{"POST", "/v1/zones", createExample},
		{"POST", "/v1/zones", `{"name":"example.org","nameservers":["ns1.example.org."]}`},
		{"POST", "/v1/zones", `{"name":"sub.example.com","nameservers":["ns1.example.org."]}`},
		{"POST", "/v1/services", `{"name":"api.example.com","pools":[{"name":"p","check":{"type":"push"}},{"name":"q","priority":2,"check":{"type":"push"}}]}`},
		{"POST", "/v1/services", `{"name":"web.example.com","pools":[{"name":"p","check":{"type":"push"}}]}`},
		{"PUT", "/v1/services/api.example.com/endpoints/a", `{"pool":"p","address":"192.0.2.1"}`},
		{"PUT", "/v1/services/api.example.com/endpoints/b", `{"pool":"q","address":"192.0.2.2"}`},
		{"PUT", "/v1/services/web.example.com/endpoints/w", `{"pool":"p","address":"192.0.2.3"}`},
	} {
		if r := e.do(t, req.method, req.path, admin, req.body); r.status != 201 {
			t.Fatalf("%s %s: %d %s", req.method, req.path, r.status, r.body)
		}
	}
	canary := e.issue(t, admin, apiv1.CreateTokenRequest{Name: "canary", Scopes: []string{"services:read"}, Pools: []string{"p"}})
	dns := e.issue(t, admin, apiv1.CreateTokenRequest{Name: "dns", Scopes: []string{"services:read"}, Zones: []string{"example.com"}})
	ops := e.issue(t, admin, apiv1.CreateTokenRequest{Name: "ops", Scopes: []string{"services:read"}, Services: []string{"api.example.com"}})
	for _, tc := range []struct {
		name, token, query string
		want               []uint64
	}{
		{"admin", admin, "", []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14}},
		{"canary", canary, "", []uint64{1, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14}},
		{"canary", canary, "?limit=2", []uint64{1, 4}},
		{"canary", canary, "?service=api.example.com", []uint64{1, 4}},
		{"dns", dns, "", []uint64{1, 2, 3, 4, 5, 6, 7, 8, 10}},
		{"ops", ops, "", []uint64{1, 2, 3, 4, 6}},
	} {
		var list apiv1.EventList
		r := e.do(t, "GET", "/v1/events"+tc.query, tc.token, "")
		r.decode(t, &list)
		var got []uint64
		for _, ev := range list.Events {
			got = append(got, ev.Seq)
		}
		if r.status != 200 || !slices.Equal(got, tc.want) {
			t.Errorf("%s: events%s: %d %v, want %v", tc.name, tc.query, r.status, got, tc.want)
		}
	}
	const api = "/v1/services/api.example.com"
	for _, q := range []string{"", "?down_endpoint=b", "?down_endpoint=nosuch"} {
		r := e.do(t, "GET", api+"/evaluate"+q, canary, "")
		if ae := r.apiError(t); r.status != 403 || ae.Message != `token "canary" is bound to pool p: it cannot evaluate a service's answers, which show the endpoints of its other pools` {
			t.Errorf("canary: evaluate%s: %d %s", q, r.status, r.body)
		}
		// Not bound to pools: as before (steering is not running here).
		if r := e.do(t, "GET", api+"/evaluate"+q, ops, ""); r.status == 403 {
			t.Errorf("ops: evaluate%s: %d %s", q, r.status, r.body)
		}
	}
}
