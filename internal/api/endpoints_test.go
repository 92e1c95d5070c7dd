package api

import (
	"context"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/auth"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/control/controltest"
	"github.com/stratusdns/stratus/internal/health"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/steer"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

// newServiceAPI starts the API with the zone example.com and the service
// api.example.com: one pool "p" with the given check type.
func newServiceAPI(t *testing.T, checkType string) *apiEnv {
	t.Helper()
	e := newAPI(t)
	if r := e.do(t, "POST", "/v1/zones", e.admin, createExample); r.status != 201 {
		t.Fatalf("create zone: %d %s", r.status, r.body)
	}
	svc := `{"name":"api.example.com","pools":[{"name":"p","check":{"type":"` + checkType + `"}}]}`
	if r := e.do(t, "POST", "/v1/services", e.admin, svc); r.status != 201 {
		t.Fatalf("create service: %d %s", r.status, r.body)
	}
	return e
}

// TestFunctionToken checks what an endpoints:write token, the one a
// function registers itself with, may do and see.
func TestFunctionToken(t *testing.T) {
	e := newServiceAPI(t, "push")
	r := e.do(t, "POST", "/v1/tokens", e.admin, `{"name":"fn","scopes":["endpoints:write"]}`)
	var tok apiv1.CreatedToken
	r.decode(t, &tok)
	fn := tok.Secret
	const ep = "/v1/services/api.example.com/endpoints/fn-1"
	if r := e.do(t, "PUT", ep, fn, `{"pool":"p","address":"192.0.2.1","ttl":"30s"}`); r.status != 201 {
		t.Fatalf("register: %d %s", r.status, r.body)
	}
	if r := e.do(t, "PUT", ep+"/override", e.admin, `{"state":"down","reason":"investigating"}`); r.status != 200 {
		t.Fatalf("override: %d %s", r.status, r.body)
	}
	allowed := []struct{ method, path, body string }{
		{"PUT", ep, `{"pool":"p","address":"192.0.2.1","ttl":"30s"}`},
		{"POST", ep + "/renew", ""},
	}
	for _, a := range allowed {
		r := e.do(t, a.method, a.path, fn, a.body)
		if r.status != 200 {
			t.Errorf("%s %s: %d %s", a.method, a.path, r.status, r.body)
			continue
		}
		// The function sees its registration, not the operator's side.
		if strings.Contains(string(r.body), "investigating") || strings.Contains(string(r.body), `"override"`) {
			t.Errorf("%s %s shows the override to a function token: %s", a.method, a.path, r.body)
		}
	}
	if r := e.do(t, "GET", ep, e.admin, ""); r.status != 200 || !strings.Contains(string(r.body), "investigating") {
		t.Errorf("the operator's view lost the override: %d %s", r.status, r.body)
	}
	denied := []struct{ method, path, body string }{
		{"GET", ep, ""},
		{"GET", "/v1/services/api.example.com/endpoints", ""},
		{"GET", "/v1/services", ""},
		{"DELETE", ep + "/override", ""},
		{"PUT", "/v1/services/api.example.com/pools/p/override", `{"state":"down"}`},
		{"DELETE", "/v1/services/api.example.com", ""},
		{"GET", "/v1/zones", ""},
	}
	for _, d := range denied {
		if r := e.do(t, d.method, d.path, fn, d.body); r.status != 403 || r.apiError(t).Code != apiv1.CodePermissionDenied {
			t.Errorf("%s %s with a function token: %d %s", d.method, d.path, r.status, r.body)
		}
	}
	if r := e.do(t, "DELETE", ep, fn, ""); r.status != 204 {
		t.Errorf("deregister: %d %s", r.status, r.body)
	}
}

// TestPushNeedsAPushPool: only endpoints in pools with check type push
// take health reports.
func TestPushNeedsAPushPool(t *testing.T) {
	e := newServiceAPI(t, "none")
	const ep = "/v1/services/api.example.com/endpoints/fn-1"
	if r := e.do(t, "PUT", ep, e.admin, `{"pool":"p","address":"192.0.2.1"}`); r.status != 201 {
		t.Fatalf("register: %d %s", r.status, r.body)
	}
	r := e.do(t, "POST", ep+"/health", e.admin, `{"up":false}`)
	if ae := r.apiError(t); r.status != 400 || ae.Field != "id" || !strings.Contains(ae.Message, "whose check type is none") {
		t.Errorf("push to a pool without push checks: %d %s", r.status, r.body)
	}
	if r := e.do(t, "POST", "/v1/services/api.example.com/endpoints/nope/health", e.admin, `{"up":false}`); r.status != 404 {
		t.Errorf("push for a missing endpoint: %d %s", r.status, r.body)
	}
}

// TestOverrideTTL: an override may end by itself; a bad time limit is
// refused and changes nothing.
func TestOverrideTTL(t *testing.T) {
	e := newServiceAPI(t, "none")
	const ep = "/v1/services/api.example.com/endpoints/a"
	if r := e.do(t, "PUT", ep, e.admin, `{"pool":"p","address":"192.0.2.1"}`); r.status != 201 {
		t.Fatalf("register: %d %s", r.status, r.body)
	}
	r := e.do(t, "PUT", ep+"/override", e.admin, `{"state":"down","reason":"drill","ttl":"90s"}`)
	var out apiv1.Endpoint
	r.decode(t, &out)
	if r.status != 200 || out.Override == nil || out.Override.Expires == nil || out.Override.Expires.Sub(out.Override.Time) != 90*time.Second {
		t.Fatalf("override with a ttl: %d %s", r.status, r.body)
	}
	r = e.do(t, "PUT", "/v1/services/api.example.com/pools/p/override", e.admin, `{"state":"down","ttl":"1h"}`)
	var svc apiv1.Service
	r.decode(t, &svc)
	if r.status != 200 || svc.Pools[0].Override.Expires == nil {
		t.Fatalf("pool override with a ttl: %d %s", r.status, r.body)
	}
	for _, tc := range []struct{ body, msg string }{
		{`{"state":"down","ttl":"soon"}`, `"soon" is not a duration`},
		{`{"state":"down","ttl":"-5s"}`, `"-5s" is not a duration`},
		{`{"state":"down","ttl":"500ms"}`, "500ms is outside 1s..168h0m0s"},
		{`{"state":"down","ttl":"200h"}`, "200h0m0s is outside"},
	} {
		r := e.do(t, "PUT", ep+"/override", e.admin, tc.body)
		if ae := r.apiError(t); r.status != 400 || ae.Field != "ttl" || !strings.Contains(ae.Message, tc.msg) {
			t.Errorf("%s: %d %s", tc.body, r.status, r.body)
		}
	}
	e.do(t, "GET", ep, e.admin, "").decode(t, &out)
	if out.Override.Reason != "drill" {
		t.Errorf("a refused override changed the endpoint: %+v", out.Override)
	}
}

// TestEvaluateIfBadInput: a hypothesis naming a pool or endpoint the
// service does not have is refused, naming the parameter.
func TestEvaluateIfBadInput(t *testing.T) {
	e := newServiceAPI(t, "none")
	for _, tc := range []struct{ query, field, msg string }{
		{"down_pool=nope", "down_pool", `no pool "nope"`},
		{"down_endpoint=ghost", "down_endpoint", `no endpoint "ghost"`},
	} {
		r := e.do(t, "GET", "/v1/services/api.example.com/evaluate?"+tc.query, e.admin, "")
		if ae := r.apiError(t); r.status != 400 || ae.Field != tc.field || !strings.Contains(ae.Message, tc.msg) {
			t.Errorf("%s: %d %s", tc.query, r.status, r.body)
		}
	}
}

// pushSteering records what a push asks steering to compile again.
type pushSteering struct {
	SteeringView // the methods a push does not use
	mu           sync.Mutex
	changed      [][]string
}

func (s *pushSteering) HealthChanged(_ context.Context, keys []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.changed = append(s.changed, keys)
}

func (s *pushSteering) EndpointState(model.Name, string) (steer.Verdict, steer.Answered, bool) {
	return steer.Verdict{}, steer.Answered{}, false
}
func (s *pushSteering) Status(model.Name, string) (health.Status, bool) {
	return health.Status{}, false
}

type acceptPush struct{ HealthView }

func (acceptPush) Push(string, bool, string) error { return nil }

// TestPushRecompilesItsServiceOnly: a health report is served before it
// is answered, by compiling again the service of the endpoint that
// reported, not every service.
func TestPushRecompilesItsServiceOnly(t *testing.T) {
	svc, _ := controltest.New(t, control.Options{})
	admin, _, err := svc.Tokens.CreateToken(context.Background(), "admin", []string{"*"}, auth.Local("test"))
	if err != nil {
		t.Fatal(err)
	}
	steering := &pushSteering{}
	srv := httptest.NewServer(New(PlaneControl(svc), Options{Steering: steering, Health: acceptPush{}}))
	t.Cleanup(srv.Close)
	e := &apiEnv{srv: srv, svc: svc, admin: admin}
	if r := e.do(t, "POST", "/v1/zones", e.admin, createExample); r.status != 201 {
		t.Fatalf("create zone: %d %s", r.status, r.body)
	}
	if r := e.do(t, "POST", "/v1/services", e.admin, `{"name":"api.example.com","pools":[{"name":"p","check":{"type":"push"}}]}`); r.status != 201 {
		t.Fatalf("create service: %d %s", r.status, r.body)
	}
	const ep = "/v1/services/api.example.com/endpoints/fn-1"
	if r := e.do(t, "PUT", ep, e.admin, `{"pool":"p","address":"192.0.2.1","ttl":"30s"}`); r.status != 201 {
		t.Fatalf("register: %d %s", r.status, r.body)
	}
	if r := e.do(t, "POST", ep+"/health", e.admin, `{"up":false,"reason":"db down"}`); r.status != 200 {
		t.Fatalf("push: %d %s", r.status, r.body)
	}
	steering.mu.Lock()
	defer steering.mu.Unlock()
	want := [][]string{{steer.Key("api.example.com.", "fn-1")}}
	if !reflect.DeepEqual(steering.changed, want) {
		t.Errorf("a push asked steering to compile %q again, want %q", steering.changed, want)
	}
}
