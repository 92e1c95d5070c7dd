package api

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stratusdns/stratus/internal/auth"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/control/controltest"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

// recordPush keeps the reasons of the reports it takes.
type recordPush struct {
	HealthView
	mu      sync.Mutex
	reasons []string
}

func (p *recordPush) Push(_ string, _ bool, reason string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reasons = append(p.reasons, reason)
	return nil
}

func (p *recordPush) taken() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.reasons...)
}

// textEnv is the API with api.example.com (one push pool "p", endpoint
// fn-1) and a function's endpoints:write token.
func textEnv(t *testing.T) (*apiEnv, *recordPush, string) {
	t.Helper()
	svc, _ := controltest.New(t, control.Options{})
	admin, _, err := svc.Tokens.CreateToken(context.Background(), "admin", []string{"*"}, auth.Local("test"))
	if err != nil {
		t.Fatal(err)
	}
	fn, _, err := svc.Tokens.CreateToken(context.Background(), "fn", []string{"endpoints:write"}, auth.Local("test"))
	if err != nil {
		t.Fatal(err)
	}
	push := &recordPush{}
	srv := httptest.NewServer(New(PlaneControl(svc), Options{Steering: &pushSteering{}, Health: push}))
	t.Cleanup(srv.Close)
	e := &apiEnv{srv: srv, svc: svc, admin: admin}
	if r := e.do(t, "POST", "/v1/zones", e.admin, createExample); r.status != 201 {
		t.Fatalf("create zone: %d %s", r.status, r.body)
	}
	if r := e.do(t, "POST", "/v1/services", e.admin, `{"name":"api.example.com","pools":[{"name":"p","check":{"type":"push"}}]}`); r.status != 201 {
		t.Fatalf("create service: %d %s", r.status, r.body)
	}
	if r := e.do(t, "PUT", "/v1/services/api.example.com/endpoints/fn-1", fn, `{"pool":"p","address":"192.0.2.1","ttl":"30s"}`); r.status != 201 {
		t.Fatalf("register: %d %s", r.status, r.body)
	}
	return e, push, fn
}

func jsonBody(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// wantInvalid checks a 400 naming field and, when limit is set, the limit.
func wantInvalid(t *testing.T, r *resp, field string, limit int) {
	t.Helper()
	if r.status != 400 {
		t.Fatalf("status %d, want 400: %s", r.status, r.body)
	}
	var body struct{ Error apiv1.Error }
	r.decode(t, &body)
	er := body.Error
	if er.Field != field {
		t.Errorf("error names field %q, want %q: %s", er.Field, field, r.body)
	}
	if limit > 0 && !strings.Contains(er.Message, strconv.Itoa(limit)) {
		t.Errorf("error %q does not name the limit %d", er.Message, limit)
	}
	if len(r.body) > 2048 {
		t.Errorf("error body is %d bytes: it echoes the input", len(r.body))
	}
}

const ctl = "a\x00b\x01c\td\ne\rf\x1bg\x7fh\u0080i\u009fj k"

// TestPushReasonLimits: a pushed reason is at most MaxReasonLen bytes,
// kept without control characters; a longer one is refused and nothing
// is pushed.
func TestPushReasonLimits(t *testing.T) {
	const ep = "/v1/services/api.example.com/endpoints/fn-1/health"
	for _, tc := range []struct {
		name   string
		reason string
		field  string // "" accepted
		want   string // the reason pushed
	}{
		{"plain", "db down", "", "db down"},
		{"at the limit", strings.Repeat("x", model.MaxReasonLen), "", strings.Repeat("x", model.MaxReasonLen)},
		{"control characters stripped", ctl, "", "abcdefghij k"},
		{"one over", strings.Repeat("x", model.MaxReasonLen+1), "reason", ""},
		{"4 MB", strings.Repeat("x", 4<<20-64), "reason", ""},
		{"multibyte over", strings.Repeat("é", model.MaxReasonLen/2+1), "reason", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, push, fn := textEnv(t)
			r := e.do(t, "POST", ep, fn, jsonBody(t, apiv1.HealthReport{Up: false, Reason: tc.reason}))
			if tc.field != "" {
				wantInvalid(t, r, tc.field, model.MaxReasonLen)
				if got := push.taken(); len(got) != 0 {
					t.Errorf("refused report was pushed: %d reasons", len(got))
				}
				return
			}
			if r.status != 200 {
				t.Fatalf("push: %d %s", r.status, r.body)
			}
			if got := push.taken(); len(got) != 1 || got[0] != tc.want {
				t.Errorf("pushed %q, want %q", got, tc.want)
			}
		})
	}
}

// TestRegistrationTextLimits: each text field a function's token writes
// when registering has a maximum and no control characters; a bad one is
// refused, naming the field, and nothing is registered.
func TestRegistrationTextLimits(t *testing.T) {
	long := func(n int) string { return strings.Repeat("a", n) }
	for _, tc := range []struct {
		name  string
		ep    apiv1.Endpoint
		field string
		limit int
	}{
		{"id too long", apiv1.Endpoint{ID: long(model.MaxEndpointIDLen + 1), Pool: "p", Address: "192.0.2.9"}, "id", model.MaxEndpointIDLen},
		{"id control", apiv1.Endpoint{ID: "fn\n2", Pool: "p", Address: "192.0.2.9"}, "id", 0},
		{"pool too long", apiv1.Endpoint{ID: "fn-2", Pool: long(4096), Address: "192.0.2.9"}, "pool", model.MaxPoolNameLen},
		{"pool control", apiv1.Endpoint{ID: "fn-2", Pool: "p\x00", Address: "192.0.2.9"}, "pool", 0},
		{"address padded", apiv1.Endpoint{ID: "fn-2", Pool: "p", Address: "192.0.2.9" + strings.Repeat(" ", 4096)}, "address", model.MaxAddressLen},
		{"address control", apiv1.Endpoint{ID: "fn-2", Pool: "p", Address: "192.0.2.9\n"}, "address", 0},
		{"address space", apiv1.Endpoint{ID: "fn-2", Pool: "p", Address: " 192.0.2.9"}, "address", 0},
		{"check_target padded", apiv1.Endpoint{ID: "fn-2", Pool: "p", Address: "192.0.2.9", CheckTarget: strings.Repeat(" ", 4096) + "localhost:80"}, "check_target", model.MaxAddressLen},
		{"check_target control", apiv1.Endpoint{ID: "fn-2", Pool: "p", Address: "192.0.2.9", CheckTarget: "localhost\t:80"}, "check_target", 0},
		{"ttl too long", apiv1.Endpoint{ID: "fn-2", Pool: "p", Address: "192.0.2.9", TTL: long(4096)}, "ttl", maxDurationLen},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, _, fn := textEnv(t)
			r := e.do(t, "POST", "/v1/services/api.example.com/endpoints", fn, jsonBody(t, tc.ep))
			wantInvalid(t, r, tc.field, tc.limit)
			eps, err := e.svc.Endpoints.Endpoints(context.Background(), "api.example.com.")
			if err != nil {
				t.Fatal(err)
			}
			if len(eps) != 1 {
				t.Errorf("%d endpoints after a refused registration, want 1", len(eps))
			}
		})
	}
}

// TestOverrideTextLimits: an override's reason and what it is for have
// a maximum; control characters are stripped from what is kept.
func TestOverrideTextLimits(t *testing.T) {
	const ep = "/v1/services/api.example.com/endpoints/fn-1/override"
	for _, tc := range []struct {
		name       string
		body       string
		field      string
		limit      int
		wantReason string
		wantActor  string
	}{
		{"plain", `{"state":"down","reason":"drain","for":"INC-1"}`, "", 0, "drain", "admin (INC-1)"},
		{"control stripped", jsonBody(t, apiv1.OverrideRequest{State: "down", Reason: ctl, For: "INC\x1b[2J-1"}), "", 0, "abcdefghij k", "admin (INC[2J-1)"},
		{"reason too long", jsonBody(t, apiv1.OverrideRequest{State: "down", Reason: strings.Repeat("x", model.MaxReasonLen+1)}), "reason", model.MaxReasonLen, "", ""},
		{"for too long", jsonBody(t, apiv1.OverrideRequest{State: "down", For: strings.Repeat("x", model.MaxActorLen+1)}), "for", model.MaxActorLen, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, _, _ := textEnv(t)
			r := e.do(t, "PUT", ep, e.admin, tc.body)
			got, err := e.svc.Endpoints.Endpoint(context.Background(), "api.example.com.", "fn-1")
			if err != nil {
				t.Fatal(err)
			}
			if tc.field != "" {
				wantInvalid(t, r, tc.field, tc.limit)
				if got.Override != nil {
					t.Errorf("refused override was set: %+v", got.Override)
				}
				return
			}
			if r.status != 200 {
				t.Fatalf("override: %d %s", r.status, r.body)
			}
			if got.Override == nil || got.Override.Reason != tc.wantReason || got.Override.Actor != tc.wantActor {
				t.Errorf("override %+v, want reason %q actor %q", got.Override, tc.wantReason, tc.wantActor)
			}
		})
	}
	t.Run("clear for too long", func(t *testing.T) {
		e, _, _ := textEnv(t)
		r := e.do(t, "DELETE", ep+"?for="+strings.Repeat("x", model.MaxActorLen+1), e.admin, "")
		wantInvalid(t, r, "for", model.MaxActorLen)
	})
}
