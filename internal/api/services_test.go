package api

import (
	"strings"
	"testing"

	"github.com/stratusdns/stratus/pkg/apiv1"
)

// TestServiceStaticAnswerJurisdiction checks that a service restricted to
// jurisdictions is refused a static when_all_down answer that does not say
// it is in one of them, with an error naming the field, and that nothing is
// created; one that does is accepted and shown back.
func TestServiceStaticAnswerJurisdiction(t *testing.T) {
	e := newAPI(t)
	if r := e.do(t, "POST", "/v1/zones", e.admin, createExample); r.status != 201 {
		t.Fatalf("create zone: %d %s", r.status, r.body)
	}
	const head = `{"name":"api.example.com","jurisdictions":["eu"],"pools":[{"name":"eu-1","jurisdiction":"eu"}],"when_all_down":`
	for _, tc := range []struct{ allDown, msg string }{
		{`{"mode":"static","static":["198.51.100.7"]}`, "say which of them the static answer is in"},
		{`{"mode":"static","static":["198.51.100.7"],"jurisdiction":"us"}`, `"us" is outside the allowed jurisdictions (eu)`},
	} {
		r := e.do(t, "POST", "/v1/services", e.admin, head+tc.allDown+`}`)
		if r.status != 400 {
			t.Fatalf("%s: status %d, want 400: %s", tc.allDown, r.status, r.body)
		}
		if ae := r.apiError(t); ae.Field != "when_all_down.jurisdiction" || !strings.Contains(ae.Message, tc.msg) {
			t.Errorf("%s: error %+v, want one on when_all_down.jurisdiction containing %q", tc.allDown, ae, tc.msg)
		}
		if r := e.do(t, "GET", "/v1/services/api.example.com", e.admin, ""); r.status != 404 {
			t.Fatalf("a refused service exists: %d %s", r.status, r.body)
		}
	}
	r := e.do(t, "POST", "/v1/services", e.admin, head+`{"mode":"static","static":["198.51.100.7"],"jurisdiction":"eu"}}`)
	if r.status != 201 {
		t.Fatalf("static answer in eu: %d %s", r.status, r.body)
	}
	var s apiv1.Service
	r.decode(t, &s)
	if s.WhenAllDown == nil || s.WhenAllDown.Jurisdiction != "eu" {
		t.Errorf("created service's when_all_down: %+v", s.WhenAllDown)
	}
}
