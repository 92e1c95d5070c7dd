package api

import (
	"strings"
	"testing"

	"github.com/stratusdns/stratus/pkg/apiv1"
)

func TestZoneACLAndNotify(t *testing.T) {
	e := newAPI(t)
	if r := e.do(t, "POST", "/v1/tsig-keys", e.admin, `{"name":"xfr"}`); r.status != 201 {
		t.Fatalf("create key: %d %s", r.status, r.body)
	}
	r := e.do(t, "POST", "/v1/zones", e.admin, `{"name":"example.com","nameservers":["ns1.example.com"],
		"acl":{"transfer":[{"key":"xfr"},{"network":"127.0.0.0/8"}]},"notify":[{"address":"127.0.0.1:5300","key":"xfr."}]}`)
	if r.status != 201 {
		t.Fatalf("create zone: %d %s", r.status, r.body)
	}
	var z apiv1.Zone
	r.decode(t, &z)
	if len(z.ACL.Transfer) != 2 || z.ACL.Transfer[0].Key != "xfr." || z.ACL.Transfer[1].Network != "127.0.0.0/8" ||
		len(z.ACL.Update) != 0 || len(z.Notify) != 1 || z.Notify[0].Address != "127.0.0.1:5300" {
		t.Fatalf("zone: %+v", z)
	}

	// PATCH merges (RFC 7396): it replaces only the lists given.
	r = e.do(t, "PATCH", "/v1/zones/example.com", e.admin, `{"acl":{"update":[{"key":"xfr","network":"10.0.0.0/8"}]}}`)
	r.decode(t, &z)
	if r.status != 200 || len(z.ACL.Transfer) != 2 || len(z.ACL.Update) != 1 || len(z.Notify) != 1 || (z.Serial == nil || *z.Serial != 1) {
		t.Fatalf("patch acl: %d %s", r.status, r.body)
	}
	r = e.do(t, "PATCH", "/v1/zones/example.com", e.admin, `{"acl":{"transfer":[]}}`)
	r.decode(t, &z)
	if r.status != 200 || len(z.ACL.Transfer) != 0 || len(z.ACL.Update) != 1 {
		t.Fatalf("patch acl transfer: %d %s", r.status, r.body)
	}
	r = e.do(t, "PATCH", "/v1/zones/example.com", e.admin, `{"notify":[]}`)
	r.decode(t, &z)
	if r.status != 200 || len(z.Notify) != 0 || len(z.ACL.Update) != 1 {
		t.Fatalf("patch notify: %d %s", r.status, r.body)
	}

	// A key in use cannot be deleted: a conflict, not bad input.
	if r := e.do(t, "DELETE", "/v1/tsig-keys/xfr", e.admin, ""); r.status != 409 || !strings.Contains(string(r.body), "example.com.") {
		t.Errorf("delete a key in use: %d %s", r.status, r.body)
	} else if ae := r.apiError(t); ae.Code != apiv1.CodeConflict || ae.Field != "name" {
		t.Errorf("delete a key in use: %+v", ae)
	}

	for _, tc := range []struct{ method, path, body, field, msg string }{
		{"PATCH", "/v1/zones/example.com", `{"acl":{"transfer":[{}]}}`, "acl.transfer[0]", "names a key, a network or both"},
		{"PATCH", "/v1/zones/example.com", `{"acl":{"transfer":[{"key":"nokey"}]}}`, "acl.transfer[0].key", "no TSIG key nokey."},
		{"PATCH", "/v1/zones/example.com", `{"acl":{"notify":[{"network":"10.0.0.1/8"}]}}`, "acl.notify[0].network", "host bits"},
		{"PATCH", "/v1/zones/example.com", `{"notify":[{"address":"ns1.example.com"}]}`, "notify[0]", "want IP or IP:PORT"},
		{"PATCH", "/v1/zones/example.com", `{"notify":[{"address":"127.0.0.1"},{"address":"127.0.0.1:53"}]}`, "notify[1]", "listed twice"},
		{"PATCH", "/v1/zones/example.com", `{"default_ttl":0}`, "default_ttl", "outside"},
		{"POST", "/v1/zones", `{"name":"other.test","nameservers":["ns1.other.test"],"notify":[{"address":"127.0.0.1","key":"nokey"}]}`, "notify[0].key", "no TSIG key"},
	} {
		r := e.do(t, tc.method, tc.path, e.admin, tc.body)
		if ae := r.apiError(t); r.status != 400 || ae.Field != tc.field || !strings.Contains(ae.Message, tc.msg) {
			t.Errorf("%s: %d %s, want 400 on %s mentioning %q", tc.body, r.status, r.body, tc.field, tc.msg)
		}
	}
	// Refused changes changed nothing.
	e.do(t, "GET", "/v1/zones/example.com", e.admin, "").decode(t, &z)
	if len(z.ACL.Update) != 1 || len(z.ACL.Transfer) != 0 || len(z.Notify) != 0 || z.DefaultTTL != 3600 {
		t.Errorf("after refused changes: %+v", z)
	}
	if r := e.do(t, "GET", "/v1/zones/other.test", e.admin, ""); r.status != 404 {
		t.Errorf("a refused zone was created: %d", r.status)
	}
	if r := e.do(t, "PATCH", "/v1/zones/missing.test", e.admin, `{"notify":[]}`); r.status != 404 {
		t.Errorf("patch a missing zone: %d", r.status)
	}
}
