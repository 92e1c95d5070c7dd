package api

import (
	"strings"
	"testing"

	"github.com/stratusdns/stratus/pkg/apiv1"
)

// TestAuditAPI: a change through the API is audited as the token that
// made it, from the request's remote address; the log is read and
// verified with the scope audit:read, which * holds and zones:write does
// not; bad parameters are refused naming them.
func TestAuditAPI(t *testing.T) {
	e := newAPI(t)
	r := e.do(t, "POST", "/v1/tokens", e.admin, `{"name":"writer","scopes":["zones:write"]}`)
	var writer apiv1.CreatedToken
	r.decode(t, &writer)
	r = e.do(t, "POST", "/v1/tokens", e.admin, `{"name":"auditor","scopes":["audit:read"]}`)
	var auditor apiv1.CreatedToken
	r.decode(t, &auditor)
	if r.status != 201 {
		t.Fatalf("create auditor: %d %s", r.status, r.body)
	}
	if r := e.do(t, "POST", "/v1/zones", writer.Secret, createExample); r.status != 201 {
		t.Fatalf("create zone: %d %s", r.status, r.body)
	}
	if r := e.do(t, "GET", "/v1/audit", writer.Secret, ""); r.status != 403 || !strings.Contains(r.apiError(t).Message, "audit:read") {
		t.Errorf("zones:write reading the audit log: %d %s", r.status, r.body)
	}
	if r := e.do(t, "GET", "/v1/audit", e.admin, ""); r.status != 200 {
		t.Errorf("* reading the audit log: %d %s", r.status, r.body)
	}
	r = e.do(t, "GET", "/v1/audit?actor=writer", auditor.Secret, "")
	var log apiv1.AuditLog
	r.decode(t, &log)
	if r.status != 200 || len(log.Entries) != 1 {
		t.Fatalf("audit by writer: %d %s", r.status, r.body)
	}
	en := log.Entries[0]
	if en.Action != "zone.create" || en.Stream != "zone:example.com." || en.Actor != (apiv1.AuditActor{Kind: "token", ID: writer.ID, Name: "writer"}) ||
		!strings.HasPrefix(en.Source, "127.0.0.1:") || en.Before != "" || len(en.After) != 64 || len(en.MAC) != 64 {
		t.Errorf("entry %+v", en)
	}
	r = e.do(t, "GET", "/v1/audit?object=token:&limit=1", auditor.Secret, "")
	r.decode(t, &log)
	if len(log.Entries) != 1 || !log.More || log.Entries[0].Action != "token.create" {
		t.Errorf("tokens, one at a time: %s", r.body)
	}
	r = e.do(t, "GET", "/v1/audit/verify", auditor.Secret, "")
	var v apiv1.AuditVerification
	r.decode(t, &v)
	if r.status != 200 || !v.OK || v.Entries != 4 || len(v.Streams) != 4 || v.Problems == nil {
		t.Errorf("verify: %d %s", r.status, r.body)
	}
	for _, tc := range []struct{ query, field string }{
		{"since=yesterday", "since"},
		{"until=1", "until"},
		{"limit=0", "limit"},
		{"color=red", "color"},
		{"since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z", "until"},
	} {
		r := e.do(t, "GET", "/v1/audit?"+tc.query, auditor.Secret, "")
		if r.status != 400 || r.apiError(t).Field != tc.field {
			t.Errorf("%s: %d %s, want 400 naming %s", tc.query, r.status, r.body, tc.field)
		}
	}
	if r := e.do(t, "GET", "/v1/audit/verify?x=1", auditor.Secret, ""); r.status != 400 {
		t.Errorf("verify with a parameter: %d", r.status)
	}
}
