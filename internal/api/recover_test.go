package api

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stratusdns/stratus/internal/auth"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/control/controltest"
	"github.com/stratusdns/stratus/internal/telemetry"
	logs "github.com/stratusdns/stratus/internal/testutil"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

// TestHandlerPanicAnswers500: a handler that panics gets its request a
// 500 naming the request id, the panic is logged with its stack under that
// id and counted, and the API goes on serving.
func TestHandlerPanicAnswers500(t *testing.T) {
	svc, _ := controltest.New(t, control.Options{})
	admin, _, err := svc.Tokens.CreateToken(context.Background(), "admin", []string{"*"}, auth.Local("test"))
	if err != nil {
		t.Fatal(err)
	}
	var broken atomic.Bool
	status := func() apiv1.Status {
		if broken.Load() {
			panic("status broke")
		}
		return apiv1.Status{}
	}
	var buf logs.LogBuffer
	srv := httptest.NewServer(New(PlaneControl(svc), Options{Status: status, Logger: slog.New(slog.NewTextHandler(&buf, nil))}))
	t.Cleanup(srv.Close)
	e := &apiEnv{srv: srv, svc: svc, admin: admin}
	before := telemetry.PanicCount("api")

	broken.Store(true)
	r := e.do(t, "GET", "/v1/status", admin, "", RequestIDHeader, "req-boom-1")
	if ae := r.apiError(t); r.status != http.StatusInternalServerError || ae.Code != apiv1.CodeInternal || !strings.Contains(ae.Message, "req-boom-1") {
		t.Fatalf("a panicking handler: %d %s", r.status, r.body)
	}
	if got := r.header.Get(RequestIDHeader); got != "req-boom-1" {
		t.Errorf("X-Request-Id %q", got)
	}
	if n := telemetry.PanicCount("api") - before; n != 1 {
		t.Errorf("stratus_panics_recovered_total{component=\"api\"} rose by %v, want 1", n)
	}
	log := buf.String()
	for _, want := range []string{`level=ERROR msg="panic recovered"`, "component=api", `panic="status broke"`, "request_id=req-boom-1", "runtime/debug.Stack"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}

	broken.Store(false)
	if r = e.do(t, "GET", "/v1/status", admin, ""); r.status != http.StatusOK {
		t.Errorf("after the panic: %d %s", r.status, r.body)
	}
	if r = e.do(t, "POST", "/v1/zones", admin, createExample); r.status != http.StatusCreated {
		t.Errorf("a write after the panic: %d %s", r.status, r.body)
	}
}
