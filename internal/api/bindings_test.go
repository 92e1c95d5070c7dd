package api

import (
	"context"
	"encoding/json"
	"net/http"
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

// newBindingAPI starts the API with the zones example.com and example.org,
// the services api.example.com (pools p and q) and web.example.com (pool
// p), and the endpoints api/a in p, api/b in q and web/w in p.
func newBindingAPI(t *testing.T) *apiEnv {
	t.Helper()
	e := newAPI(t)
	for _, req := range []struct{ path, body string }{
		{"/v1/zones", createExample},
		{"/v1/zones", `{"name":"example.org","nameservers":["ns1.example.org."]}`},
		{"/v1/services", `{"name":"api.example.com","pools":[{"name":"p","check":{"type":"push"}},{"name":"q","priority":2,"check":{"type":"push"}}]}`},
		{"/v1/services", `{"name":"web.example.com","pools":[{"name":"p","check":{"type":"push"}}]}`},
	} {
		if r := e.do(t, "POST", req.path, e.admin, req.body); r.status != 201 {
			t.Fatalf("POST %s %s: %d %s", req.path, req.body, r.status, r.body)
		}
	}
	for _, ep := range []struct{ svc, id, pool string }{{"api.example.com", "a", "p"}, {"api.example.com", "b", "q"}, {"web.example.com", "w", "p"}} {
		if r := e.do(t, "PUT", "/v1/services/"+ep.svc+"/endpoints/"+ep.id, e.admin, `{"pool":"`+ep.pool+`","address":"192.0.2.1","ttl":"30s"}`); r.status != 201 {
			t.Fatalf("register %s/%s: %d %s", ep.svc, ep.id, r.status, r.body)
		}
	}
	return e
}

// issue creates a token as by with req and returns its secret.
func (e *apiEnv) issue(t *testing.T, by string, req apiv1.CreateTokenRequest) string {
	t.Helper()
	body, _ := json.Marshal(req)
	r := e.do(t, "POST", "/v1/tokens", by, string(body))
	if r.status != http.StatusCreated {
		t.Fatalf("creating %+v: %d %s", req, r.status, r.body)
	}
	var out apiv1.CreatedToken
	r.decode(t, &out)
	return out.Secret
}

// TestBoundTokens: a token bound to services, pools or zones acts only on
// those objects; every other request its scopes would allow is refused
// with 403 naming the token, the binding and the object, and changes
// nothing.
func TestBoundTokens(t *testing.T) {
	e := newBindingAPI(t)
	fn := e.issue(t, e.admin, apiv1.CreateTokenRequest{Name: "fn", Scopes: []string{"endpoints:write"}, Services: []string{"api.example.com"}})
	ops := e.issue(t, e.admin, apiv1.CreateTokenRequest{Name: "ops", Scopes: []string{"services:write"}, Services: []string{"api.example.com"}})
	canary := e.issue(t, e.admin, apiv1.CreateTokenRequest{Name: "canary", Scopes: []string{"services:write"}, Pools: []string{"p"}})
	dns := e.issue(t, e.admin, apiv1.CreateTokenRequest{Name: "dns", Scopes: []string{"zones:write"}, Zones: []string{"example.com"}})
	const api, web = "/v1/services/api.example.com", "/v1/services/web.example.com"
	tests := []struct {
		token, name  string
		method, path string
		body         string
		status       int
		msg          string // in a refusal's message
	}{
		// Bound to a service: endpoints of that service only.
		{fn, "fn", "PUT", api + "/endpoints/fn-1", `{"pool":"p","address":"192.0.2.9"}`, 201, ""},
		{fn, "fn", "POST", api + "/endpoints/a/renew", "", 200, ""},
		{fn, "fn", "PUT", web + "/endpoints/evil", `{"pool":"p","address":"192.0.2.66"}`, 403, `token "fn" is bound to service api.example.com.: it cannot act on service web.example.com.`},
		{fn, "fn", "POST", web + "/endpoints", `{"id":"evil","pool":"p","address":"192.0.2.66"}`, 403, "service web.example.com."},
		{fn, "fn", "DELETE", web + "/endpoints/w", "", 403, "service web.example.com."},
		{fn, "fn", "POST", web + "/endpoints/w/renew", "", 403, "service web.example.com."},
		{fn, "fn", "POST", web + "/endpoints/w/health", `{"up":false}`, 403, "service web.example.com."},
		{fn, "fn", "DELETE", api + "/endpoints/fn-1", "", 204, ""},
		// services:write bound to a service.
		{ops, "ops", "PUT", web + "/endpoints/w/override", `{"state":"down"}`, 403, `token "ops" is bound to service api.example.com.: it cannot act on service web.example.com.`},
		{ops, "ops", "PUT", web + "/pools/p/override", `{"state":"down"}`, 403, "service web.example.com."},
		{ops, "ops", "DELETE", web, "", 403, "service web.example.com."},
		{ops, "ops", "PUT", web, `{"pools":[{"name":"p"}]}`, 403, "service web.example.com."},
		{ops, "ops", "POST", "/v1/services", `{"name":"new.example.com","pools":[{"name":"p"}]}`, 403, "service new.example.com."},
		{ops, "ops", "GET", web, "", 403, "service web.example.com."},
		{ops, "ops", "GET", web + "/endpoints", "", 403, "service web.example.com."},
		{ops, "ops", "GET", web + "/evaluate", "", 403, "service web.example.com."},
		{ops, "ops", "GET", "/v1/events?service=web.example.com", "", 403, "service web.example.com."},
		{ops, "ops", "GET", "/v1/events?service=api.example.com", "", 200, ""},
		{ops, "ops", "GET", "/v1/drill-runs", "", 403, "cannot run or read drills"},
		{ops, "ops", "POST", "/v1/drills/x/start", "", 403, "cannot run or read drills"},
		{ops, "ops", "PUT", api + "/endpoints/a/override", `{"state":"down","reason":"ops"}`, 200, ""},
		{ops, "ops", "GET", api, "", 200, ""},
		// Bound to pool p, in any service.
		{canary, "canary", "PUT", api + "/endpoints/c", `{"pool":"q","address":"192.0.2.9"}`, 403, `token "canary" is bound to pool p: it cannot act on pool q`},
		{canary, "canary", "PUT", api + "/endpoints/b", `{"pool":"p","address":"192.0.2.9"}`, 403, "cannot act on pool q (endpoint b)"},
		{canary, "canary", "DELETE", api + "/endpoints/b", "", 403, "pool q (endpoint b)"},
		{canary, "canary", "POST", api + "/endpoints/b/renew", "", 403, "pool q (endpoint b)"},
		{canary, "canary", "POST", api + "/endpoints/b/health", `{"up":false}`, 403, "pool q (endpoint b)"},
		{canary, "canary", "PUT", api + "/endpoints/b/override", `{"state":"down"}`, 403, "pool q (endpoint b)"},
		{canary, "canary", "GET", api + "/endpoints/b", "", 403, "pool q (endpoint b)"},
		{canary, "canary", "PUT", api + "/pools/q/override", `{"state":"down"}`, 403, "pool q"},
		{canary, "canary", "DELETE", api, "", 403, "it cannot write service api.example.com. as a whole"},
		{canary, "canary", "POST", "/v1/services", `{"name":"new.example.com","pools":[{"name":"p"}]}`, 403, "as a whole"},
		{canary, "canary", "PUT", api + "/pools/p/override", `{"state":"up"}`, 200, ""},
		{canary, "canary", "DELETE", api + "/pools/p/override", "", 200, ""},
		{canary, "canary", "PUT", web + "/endpoints/w", `{"pool":"p","address":"192.0.2.7"}`, 200, ""},
		{canary, "canary", "GET", api + "/endpoints/a", "", 200, ""},
		// Bound to a zone.
		{dns, "dns", "GET", "/v1/zones/example.org", "", 403, `token "dns" is bound to zone example.com.: it cannot act on zone example.org.`},
		{dns, "dns", "PATCH", "/v1/zones/example.org/rrsets", `{"changes":[]}`, 403, "zone example.org."},
		{dns, "dns", "PUT", "/v1/zones/example.org/rrsets/www/A", `{"ttl":60,"records":["192.0.2.1"]}`, 403, "zone example.org."},
		{dns, "dns", "GET", "/v1/zones/example.org/zonefile", "", 403, "zone example.org."},
		{dns, "dns", "GET", "/v1/zones/example.org/journal", "", 403, "zone example.org."},
		{dns, "dns", "DELETE", "/v1/zones/example.org", "", 403, "zone example.org."},
		{dns, "dns", "POST", "/v1/zones", `{"name":"example.net","nameservers":["ns1.example.net."]}`, 403, "zone example.net."},
		{dns, "dns", "PUT", "/v1/zones/example.com/rrsets/www/A", `{"ttl":60,"records":["192.0.2.1"]}`, 200, ""},
	}
	for _, tc := range tests {
		r := e.do(t, tc.method, tc.path, tc.token, tc.body)
		if r.status != tc.status {
			t.Errorf("%s: %s %s: %d %s, want %d", tc.name, tc.method, tc.path, r.status, r.body, tc.status)
			continue
		}
		if tc.status == 403 {
			if ae := r.apiError(t); ae.Code != apiv1.CodePermissionDenied || !strings.Contains(ae.Message, tc.msg) {
				t.Errorf("%s: %s %s: %s, want %q", tc.name, tc.method, tc.path, r.body, tc.msg)
			}
		}
	}
	// Nothing refused happened.
	var eps apiv1.EndpointList
	e.do(t, "GET", web+"/endpoints", e.admin, "").decode(t, &eps)
	if len(eps.Endpoints) != 1 || eps.Endpoints[0].ID != "w" || eps.Endpoints[0].Override != nil {
		t.Errorf("web.example.com's endpoints after refusals: %+v", eps.Endpoints)
	}
	e.do(t, "GET", api+"/endpoints", e.admin, "").decode(t, &eps)
	if len(eps.Endpoints) != 2 || eps.Endpoints[1].ID != "b" || eps.Endpoints[1].Pool != "q" || eps.Endpoints[1].Override != nil {
		t.Errorf("api.example.com's endpoints after refusals: %+v", eps.Endpoints)
	}
	if r := e.do(t, "GET", "/v1/zones/example.net", e.admin, ""); r.status != 404 {
		t.Errorf("a refused zone creation: %d %s", r.status, r.body)
	}
}

// TestBoundTokenLists: a bound token's lists hold only its objects.
func TestBoundTokenLists(t *testing.T) {
	e := newBindingAPI(t)
	ops := e.issue(t, e.admin, apiv1.CreateTokenRequest{Name: "ops", Scopes: []string{"services:read"}, Services: []string{"api.example.com"}})
	canary := e.issue(t, e.admin, apiv1.CreateTokenRequest{Name: "canary", Scopes: []string{"services:read"}, Pools: []string{"p"}})
	dns := e.issue(t, e.admin, apiv1.CreateTokenRequest{Name: "dns", Scopes: []string{"zones:read"}, Zones: []string{"example.org"}})
	var svcs apiv1.ServiceList
	e.do(t, "GET", "/v1/services", ops, "").decode(t, &svcs)
	if len(svcs.Services) != 1 || svcs.Services[0].Name != "api.example.com." {
		t.Errorf("services of a token bound to api.example.com: %+v", svcs.Services)
	}
	e.do(t, "GET", "/v1/services", e.admin, "").decode(t, &svcs)
	if len(svcs.Services) != 2 {
		t.Errorf("services of the admin: %+v", svcs.Services)
	}
	var zones apiv1.ZoneList
	e.do(t, "GET", "/v1/zones", dns, "").decode(t, &zones)
	if len(zones.Zones) != 1 || zones.Zones[0].Name != "example.org." {
		t.Errorf("zones of a token bound to example.org: %+v", zones.Zones)
	}
	var eps apiv1.EndpointList
	e.do(t, "GET", "/v1/services/api.example.com/endpoints", canary, "").decode(t, &eps)
	if len(eps.Endpoints) != 1 || eps.Endpoints[0].ID != "a" {
		t.Errorf("endpoints of a token bound to pool p: %+v", eps.Endpoints)
	}
}

// TestBoundTokenAdmin: a bound tokens:admin token creates only tokens
// bound within its own bindings, lists and deletes only those.
func TestBoundTokenAdmin(t *testing.T) {
	e := newBindingAPI(t)
	admin := e.issue(t, e.admin, apiv1.CreateTokenRequest{Name: "team-admin", Scopes: []string{"tokens:admin", "services:write"}, Services: []string{"api.example.com"}})
	e.issue(t, e.admin, apiv1.CreateTokenRequest{Name: "everywhere", Scopes: []string{"endpoints:write"}})
	e.issue(t, e.admin, apiv1.CreateTokenRequest{Name: "web-fn", Scopes: []string{"endpoints:write"}, Services: []string{"web.example.com"}})
	for _, tc := range []struct {
		req    apiv1.CreateTokenRequest
		status int
		msg    string
	}{
		{apiv1.CreateTokenRequest{Name: "x", Scopes: []string{"endpoints:write"}}, 403, `token "team-admin" is bound to service api.example.com.: it cannot grant a token without a service binding`},
		{apiv1.CreateTokenRequest{Name: "x", Scopes: []string{"endpoints:write"}, Services: []string{"web.example.com"}}, 403, "cannot grant a token bound to service web.example.com."},
		{apiv1.CreateTokenRequest{Name: "x", Scopes: []string{"endpoints:write"}, Services: []string{"api.example.com", "web.example.com"}}, 403, "web.example.com."},
		{apiv1.CreateTokenRequest{Name: "fn", Scopes: []string{"endpoints:write"}, Services: []string{"api.example.com"}}, 201, ""},
		{apiv1.CreateTokenRequest{Name: "fn-p", Scopes: []string{"endpoints:write"}, Services: []string{"api.example.com"}, Pools: []string{"p"}}, 201, ""},
	} {
		body, _ := json.Marshal(tc.req)
		r := e.do(t, "POST", "/v1/tokens", admin, string(body))
		if r.status != tc.status || (tc.msg != "" && !strings.Contains(r.apiError(t).Message, tc.msg)) {
			t.Errorf("%+v: %d %s, want %d %q", tc.req, r.status, r.body, tc.status, tc.msg)
		}
	}
	var list apiv1.TokenList
	e.do(t, "GET", "/v1/tokens", admin, "").decode(t, &list)
	var names []string
	for _, tk := range list.Tokens {
		names = append(names, tk.Name)
	}
	if !slices.Equal(names, []string{"fn", "fn-p", "team-admin"}) {
		t.Errorf("tokens the bound admin lists: %v", names)
	}
	for _, n := range []string{"everywhere", "web-fn"} {
		r := e.do(t, "DELETE", "/v1/tokens/"+e.tokenID(t, n), admin, "")
		if r.status != 403 || !strings.Contains(r.apiError(t).Message, `token "team-admin" is bound to service api.example.com.`) {
			t.Errorf("the bound admin deleting %s: %d %s", n, r.status, r.body)
		}
	}
	if r := e.do(t, "DELETE", "/v1/tokens/"+e.tokenID(t, "fn"), admin, ""); r.status != 204 {
		t.Errorf("the bound admin deleting its own kind: %d %s", r.status, r.body)
	}
}

// TestReregistrationKeepsTheOverride: a function's token cannot clear the
// operator's override by registering its endpoint again elsewhere.
func TestReregistrationKeepsTheOverride(t *testing.T) {
	e := newBindingAPI(t)
	fn := e.issue(t, e.admin, apiv1.CreateTokenRequest{Name: "fn", Scopes: []string{"endpoints:write"}, Services: []string{"api.example.com"}})
	const ep = "/v1/services/api.example.com/endpoints/a"
	if r := e.do(t, "PUT", ep+"/override", e.admin, `{"state":"down","reason":"drained"}`); r.status != 200 {
		t.Fatalf("override: %d %s", r.status, r.body)
	}
	for _, body := range []string{`{"pool":"p","address":"192.0.2.77"}`, `{"pool":"q","address":"192.0.2.78"}`} {
		if r := e.do(t, "PUT", ep, fn, body); r.status != 200 {
			t.Fatalf("register again %s: %d %s", body, r.status, r.body)
		}
		var out apiv1.Endpoint
		e.do(t, "GET", ep, e.admin, "").decode(t, &out)
		if out.Override == nil || out.Override.State != "down" || out.Override.Reason != "drained" {
			t.Errorf("after registering again %s: override %+v", body, out.Override)
		}
	}
}

// TestTokenExpiryAndLastUse: a token with an expiry works until then and
// is refused with 401 saying when it expired; the token list shows the
// expiry and, once flushed, the last use.
func TestTokenExpiryAndLastUse(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	svc, _ := controltest.New(t, control.Options{Clock: func() time.Time { return now }})
	admin, _, err := svc.Tokens.CreateToken(context.Background(), "admin", []string{"*"}, auth.Local("test"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(New(PlaneControl(svc), Options{}))
	t.Cleanup(srv.Close)
	e := &apiEnv{srv: srv, svc: svc, admin: admin}

	for _, bad := range []string{`"2026-11-26T11:00:00Z"`, `"2026-11-26T12:00:00Z"`, `"tomorrow"`} {
		r := e.do(t, "POST", "/v1/tokens", admin, `{"name":"ci","scopes":["zones:read"],"expires":`+bad+`}`)
		if r.status != 400 {
			t.Errorf("expires %s: %d %s", bad, r.status, r.body)
		}
	}
	r := e.do(t, "POST", "/v1/tokens", admin, `{"name":"ci","scopes":["zones:read"],"expires":"2026-11-26T13:00:00Z"}`)
	var ci apiv1.CreatedToken
	r.decode(t, &ci)
	if r.status != 201 || !ci.Expires.Equal(now.Add(time.Hour)) {
		t.Fatalf("create with an expiry: %d %s", r.status, r.body)
	}
	if r := e.do(t, "GET", "/v1/zones", ci.Secret, ""); r.status != 200 {
		t.Errorf("before the expiry: %d %s", r.status, r.body)
	}
	if _, err := svc.Tokens.FlushLastUse(context.Background()); err != nil {
		t.Fatal(err)
	}
	usedAt := now
	now = now.Add(time.Hour)
	r = e.do(t, "GET", "/v1/zones", ci.Secret, "")
	if ae := r.apiError(t); r.status != 401 || ae.Code != apiv1.CodeUnauthenticated || ae.Message != `token "ci" expired at 2026-11-26T13:00:00Z` || r.header.Get("WWW-Authenticate") == "" {
		t.Errorf("after the expiry: %d %s", r.status, r.body)
	}
	var list apiv1.TokenList
	e.do(t, "GET", "/v1/tokens", admin, "").decode(t, &list)
	for _, tk := range list.Tokens {
		switch tk.Name {
		case "ci":
			if !tk.Expires.Equal(usedAt.Add(time.Hour)) || !tk.LastUsed.Equal(usedAt) {
				t.Errorf("ci listed as %+v", tk)
			}
		case "admin":
			if !tk.Expires.IsZero() {
				t.Errorf("admin listed as %+v", tk)
			}
		}
	}
}

// fakeEvents is a HealthView holding events.
type fakeEvents []health.Event

func (f fakeEvents) Events(after uint64, limit int) []health.Event {
	var out []health.Event
	for _, ev := range f {
		if ev.Seq > after && (limit == 0 || len(out) < limit) {
			out = append(out, ev)
		}
	}
	return out
}

func (fakeEvents) Push(string, bool, string) error { return nil }

// TestBoundTokenEvents: a token bound to services sees their events only,
// however few it asks for.
func TestBoundTokenEvents(t *testing.T) {
	svc, _ := controltest.New(t, control.Options{})
	admin, _, err := svc.Tokens.CreateToken(context.Background(), "admin", []string{"*"}, auth.Local("test"))
	if err != nil {
		t.Fatal(err)
	}
	evs := fakeEvents{
		{Seq: 1, Key: "web.example.com.|w", Old: health.Up, New: health.Down, Actor: "check"},
		{Seq: 2, Key: "api.example.com.|a", Old: health.Up, New: health.Down, Actor: "check"},
		{Seq: 3, Key: "node:b", Actor: "quorum"},
		{Seq: 4, Key: "api.example.com.|pool:p", Actor: "alice"},
	}
	srv := httptest.NewServer(New(PlaneControl(svc), Options{Health: evs}))
	t.Cleanup(srv.Close)
	e := &apiEnv{srv: srv, svc: svc, admin: admin}
	ops := e.issue(t, admin, apiv1.CreateTokenRequest{Name: "ops", Scopes: []string{"services:read"}, Services: []string{"api.example.com"}})
	for _, tc := range []struct {
		token, query string
		want         []uint64
	}{
		{admin, "", []uint64{1, 2, 3, 4}},
		{ops, "", []uint64{2, 4}},
		{ops, "?limit=1", []uint64{2}},
		{ops, "?service=api.example.com", []uint64{2, 4}},
	} {
		var list apiv1.EventList
		r := e.do(t, "GET", "/v1/events"+tc.query, tc.token, "")
		r.decode(t, &list)
		var got []uint64
		for _, ev := range list.Events {
			got = append(got, ev.Seq)
		}
		if r.status != 200 || !slices.Equal(got, tc.want) {
			t.Errorf("events%s: %d %v, want %v", tc.query, r.status, got, tc.want)
		}
	}
}
