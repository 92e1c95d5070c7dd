package api

import (
	"context"
	"strings"
	"testing"

	"github.com/stratusdns/stratus/internal/auth"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

// Webhooks are created, read with their secret redacted, and deleted;
// webhooks:read reads them and webhooks:write changes them.
func TestWebhooks(t *testing.T) {
	e := newAPI(t)
	const given = "a-secret-of-the-operators-own"
	r := e.do(t, "POST", "/v1/webhooks", e.admin, `{"name":"ops","url":"https://hooks.example.com/x","secret":"`+given+`","events":["failover_started","drill_failed"],"services":["API.example.com"]}`)
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	var created apiv1.CreatedWebhook
	r.decode(t, &created)
	if created.Secret != given || created.Name != "ops" || created.Services[0] != "api.example.com." || len(created.Events) != 2 {
		t.Fatalf("created %+v", created)
	}
	r = e.do(t, "POST", "/v1/webhooks", e.admin, `{"name":"gen","url":"http://127.0.0.1:9/hook"}`)
	var generated apiv1.CreatedWebhook
	r.decode(t, &generated)
	if r.status != 201 || len(generated.Secret) != 64 {
		t.Fatalf("create with a generated secret: %d %s", r.status, r.body)
	}
	if r := e.do(t, "POST", "/v1/webhooks", e.admin, `{"name":"ops","url":"https://hooks.example.com/y"}`); r.status != 409 {
		t.Errorf("create an existing webhook: %d %s", r.status, r.body)
	}

	for _, path := range []string{"/v1/webhooks", "/v1/webhooks/ops", "/v1/webhooks/gen"} {
		r := e.do(t, "GET", path, e.admin, "")
		if r.status != 200 || strings.Contains(string(r.body), given) || strings.Contains(string(r.body), generated.Secret) || !strings.Contains(string(r.body), `"secret": "\u003credacted\u003e"`) {
			t.Errorf("GET %s: %d %s", path, r.status, r.body)
		}
	}
	var list apiv1.WebhookList
	e.do(t, "GET", "/v1/webhooks", e.admin, "").decode(t, &list)
	if len(list.Webhooks) != 2 || list.Webhooks[0].Name != "gen" || list.Webhooks[1].URL != "https://hooks.example.com/x" {
		t.Errorf("list: %+v", list)
	}
	// The audit log names the change, never the secret.
	r = e.do(t, "GET", "/v1/audit", e.admin, "")
	if !strings.Contains(string(r.body), "webhook.create") || strings.Contains(string(r.body), given) {
		t.Errorf("audit: %s", r.body)
	}

	reader, _, err := e.svc.Tokens.CreateToken(context.Background(), "reader", []string{"webhooks:read"}, auth.Local("test"))
	if err != nil {
		t.Fatal(err)
	}
	if r := e.do(t, "GET", "/v1/webhooks/ops", reader, ""); r.status != 200 {
		t.Errorf("get with webhooks:read: %d", r.status)
	}
	if r := e.do(t, "DELETE", "/v1/webhooks/ops", reader, ""); r.status != 403 {
		t.Errorf("delete with webhooks:read: %d", r.status)
	}
	zones, _, err := e.svc.Tokens.CreateToken(context.Background(), "zones", []string{"zones:write"}, auth.Local("test"))
	if err != nil {
		t.Fatal(err)
	}
	if r := e.do(t, "GET", "/v1/webhooks", zones, ""); r.status != 403 {
		t.Errorf("list with zones:write: %d", r.status)
	}
	bound, _, err := e.svc.Tokens.IssueToken(context.Background(), control.TokenSpec{Name: "bound", Scopes: []string{"webhooks:write"}, Bindings: auth.Bindings{Zones: []string{"example.com."}}}, auth.Local("test"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"GET", "POST"} {
		if r := e.do(t, m, "/v1/webhooks", bound, `{"name":"b","url":"https://x.example/"}`); r.status != 403 || !strings.Contains(r.apiError(t).Message, "alerts of every zone") {
			t.Errorf("%s /v1/webhooks with a token bound to a zone: %d %s", m, r.status, r.body)
		}
	}
	if r := e.do(t, "POST", "/v1/webhooks/ops/test", e.admin, ""); r.status != 503 {
		t.Errorf("test without a tester: %d %s", r.status, r.body)
	}

	if r := e.do(t, "DELETE", "/v1/webhooks/ops", e.admin, ""); r.status != 204 {
		t.Errorf("delete: %d %s", r.status, r.body)
	}
	if r := e.do(t, "DELETE", "/v1/webhooks/ops", e.admin, ""); r.status != 404 {
		t.Errorf("delete again: %d %s", r.status, r.body)
	}
	if r := e.do(t, "GET", "/v1/webhooks/ops", e.admin, ""); r.status != 404 {
		t.Errorf("get a deleted webhook: %d %s", r.status, r.body)
	}
}

func TestCreateWebhookBadInput(t *testing.T) {
	e := newAPI(t)
	for _, tc := range []struct{ body, field, msg string }{
		{`{"name":"","url":"https://x.example/"}`, "name", "not a webhook name"},
		{`{"name":"Ops","url":"https://x.example/"}`, "name", "not a webhook name"},
		{`{"name":"ops"}`, "url", "required"},
		{`{"name":"ops","url":"ftp://x.example/"}`, "url", "scheme must be http or https"},
		{`{"name":"ops","url":"file:///etc/passwd"}`, "url", "scheme must be http or https"},
		{`{"name":"ops","url":"https:///path"}`, "url", "names no host"},
		{`{"name":"ops","url":"https://x.example/ path\u007f"}`, "url", "not a URL"},
		{`{"name":"ops","url":"https://x.example/","secret":"short"}`, "secret", "at least 16"},
		{`{"name":"ops","url":"https://x.example/","events":["failover_started","boom"]}`, "events[1]", `"boom" is not an alert kind`},
		{`{"name":"ops","url":"https://x.example/","services":["a..b"]}`, "services[0]", ""},
		{`{"name":"ops","url":"https://x.example/","zones":["a..b"]}`, "zones[0]", ""},
	} {
		r := e.do(t, "POST", "/v1/webhooks", e.admin, tc.body)
		if ae := r.apiError(t); r.status != 400 || ae.Field != tc.field || !strings.Contains(ae.Message, tc.msg) {
			t.Errorf("%s: %d %s, want 400 on %s mentioning %q", tc.body, r.status, r.body, tc.field, tc.msg)
		}
	}
	var list apiv1.WebhookList
	e.do(t, "GET", "/v1/webhooks", e.admin, "").decode(t, &list)
	if len(list.Webhooks) != 0 {
		t.Errorf("a refused webhook was created: %+v", list)
	}
}
