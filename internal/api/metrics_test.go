package api

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/stratusdns/stratus/internal/auth"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/control/controltest"
)

// TestRequestMetrics: requests are counted by their route's pattern,
// never the path asked for, with their method and status code; a path
// no route has counts as "unmatched", a method no route of the path has
// under the path's pattern, and a method outside HTTP's as "other".
func TestRequestMetrics(t *testing.T) {
	svc, _ := controltest.New(t, control.Options{})
	admin, _, err := svc.Tokens.CreateToken(context.Background(), "admin", []string{"*"}, auth.Local("test"))
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	srv := httptest.NewServer(New(PlaneControl(svc), Options{Metrics: reg}))
	t.Cleanup(srv.Close)
	e := &apiEnv{srv: srv, svc: svc, admin: admin}
	for _, r := range []struct {
		method, path, token, body string
		status                    int
	}{
		{"POST", "/v1/zones", admin, createExample, 201},
		{"GET", "/v1/zones/example.com.", admin, "", 200},
		{"GET", "/v1/zones/example.com.", admin, "", 200},
		{"GET", "/v1/zones/nope.test.", admin, "", 404},
		{"GET", "/v1/zones", "", "", 401},
		{"DELETE", "/v1/status", admin, "", 405},
		{"GET", "/v1/no/such/path", admin, "", 404},
		{"BREW", "/v1/zones", admin, "", 405},
	} {
		if got := e.do(t, r.method, r.path, r.token, r.body); got.status != r.status {
			t.Fatalf("%s %s: %d, want %d: %s", r.method, r.path, got.status, r.status, got.body)
		}
	}
	want := `
# HELP stratus_api_requests_total API requests by route (its pattern, or "unmatched"), method and status code.
# TYPE stratus_api_requests_total counter
stratus_api_requests_total{code="200",method="GET",route="/v1/zones/{zone}"} 2
stratus_api_requests_total{code="201",method="POST",route="/v1/zones"} 1
stratus_api_requests_total{code="401",method="GET",route="/v1/zones"} 1
stratus_api_requests_total{code="404",method="GET",route="/v1/zones/{zone}"} 1
stratus_api_requests_total{code="404",method="GET",route="unmatched"} 1
stratus_api_requests_total{code="405",method="DELETE",route="/v1/status"} 1
stratus_api_requests_total{code="405",method="other",route="/v1/zones"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "stratus_api_requests_total"); err != nil {
		t.Error(err)
	}
	// One duration series per route and method.
	if n := testutil.CollectAndCount(reg, "stratus_api_request_duration_seconds"); n != 6 {
		t.Errorf("%d stratus_api_request_duration_seconds series, want 6", n)
	}
}
