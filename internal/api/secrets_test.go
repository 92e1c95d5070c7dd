package api

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

// TestServiceCheckHeadersRedacted checks that the header values a health
// check sends (credentials such as Authorization) are stored and used but
// never returned: not by a read, a list, a write's answer or an
// override's, not even to a token that may write services; that a
// definition read and sent back unchanged keeps them; that a new value
// replaces them; and that the placeholder with nothing stored behind it
// is refused, naming the header, and changes nothing.
func TestServiceCheckHeadersRedacted(t *testing.T) {
	const secret = "Bearer s3cr3t-token"
	e := newAPI(t)
	if r := e.do(t, "POST", "/v1/zones", e.admin, createExample); r.status != 201 {
		t.Fatalf("create zone: %d %s", r.status, r.body)
	}
	r := e.do(t, "POST", "/v1/tokens", e.admin, `{"name":"reader","scopes":["services:read"]}`)
	var tok apiv1.CreatedToken
	r.decode(t, &tok)
	if r.status != 201 {
		t.Fatalf("create token: %d %s", r.status, r.body)
	}
	const svc = `{"name":"api.example.com","pools":[{"name":"eu-1","check":{"type":"https","path":"/healthz","headers":{"Authorization":"` + secret + `","Cookie":"session=abc123"}}}]}`
	stored := func() map[string]string {
		t.Helper()
		s, err := e.svc.Services.GetService(context.Background(), "api.example.com.")
		if err != nil {
			t.Fatal(err)
		}
		return s.Pools[0].Check.Headers
	}
	noSecret := func(what string, r *resp, want int) {
		t.Helper()
		if r.status != want {
			t.Fatalf("%s: status %d, want %d: %s", what, r.status, want, r.body)
		}
		for _, s := range []string{"s3cr3t", "abc123"} {
			if strings.Contains(string(r.body), s) {
				t.Errorf("%s returns the secret %q: %s", what, s, r.body)
			}
		}
	}
	r = e.do(t, "POST", "/v1/services", e.admin, svc)
	noSecret("create", r, 201)
	noSecret("get", e.do(t, "GET", "/v1/services/api.example.com", tok.Secret, ""), 200)
	noSecret("get (admin)", e.do(t, "GET", "/v1/services/api.example.com", e.admin, ""), 200)
	noSecret("list", e.do(t, "GET", "/v1/services", tok.Secret, ""), 200)
	noSecret("pool override", e.do(t, "PUT", "/v1/services/api.example.com/pools/eu-1/override", e.admin, `{"state":"down","reason":"test"}`), 200)
	if h := stored(); h["Authorization"] != secret || h["Cookie"] != "session=abc123" {
		t.Fatalf("stored headers %v", h)
	}

	// The definition as read, sent back: the stored values stay.
	r = e.do(t, "GET", "/v1/services/api.example.com", tok.Secret, "")
	var got apiv1.Service
	r.decode(t, &got)
	if h := got.Pools[0].Check.Headers; h["Authorization"] != model.Redacted || h["Cookie"] != model.Redacted {
		t.Fatalf("read headers %v, want both %q", h, model.Redacted)
	}
	body := string(r.body)
	noSecret("put back", e.do(t, "PUT", "/v1/services/api.example.com", e.admin, body), 200)
	if h := stored(); h["Authorization"] != secret || h["Cookie"] != "session=abc123" {
		t.Errorf("after sending the read definition back, stored headers %v", h)
	}

	// A new value replaces the stored one; the other header is kept.
	got.Pools[0].Check.Headers = map[string]string{"authorization": "Bearer n3w", "Cookie": model.Redacted}
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	upd := string(b)
	noSecret("put new value", e.do(t, "PUT", "/v1/services/api.example.com", e.admin, upd), 200)
	if h := stored(); h["authorization"] != "Bearer n3w" || h["Cookie"] != "session=abc123" || len(h) != 2 {
		t.Errorf("after a new value, stored headers %v", h)
	}
	before := stored()

	for _, tc := range []struct{ what, method, path, body, field string }{
		{"placeholder for a header not stored", "PUT", "/v1/services/api.example.com",
			strings.Replace(body, `"Cookie"`, `"X-Api-Key"`, 1), "pools[0].check.headers.X-Api-Key"},
		{"placeholder in a renamed pool", "PUT", "/v1/services/api.example.com",
			strings.Replace(body, `"eu-1"`, `"eu-2"`, 1), "pools[0].check.headers.Authorization"},
		{"placeholder in a new service", "POST", "/v1/services",
			strings.Replace(strings.Replace(svc, secret, model.Redacted, 1), "api.example.com", "www.example.com", 1), "pools[0].check.headers.Authorization"},
	} {
		r := e.do(t, tc.method, tc.path, e.admin, tc.body)
		if r.status != 400 {
			t.Fatalf("%s: status %d, want 400: %s", tc.what, r.status, r.body)
		}
		if ae := r.apiError(t); ae.Field != tc.field || !strings.Contains(ae.Message, "send the value itself") {
			t.Errorf("%s: error %+v, want one on %s", tc.what, ae, tc.field)
		}
		if h := stored(); len(h) != len(before) || h["authorization"] != before["authorization"] || h["Cookie"] != before["Cookie"] {
			t.Errorf("%s: stored headers changed to %v", tc.what, h)
		}
	}
	if r := e.do(t, "GET", "/v1/services/www.example.com", e.admin, ""); r.status != 404 {
		t.Errorf("a refused service exists: %d %s", r.status, r.body)
	}
}
