package main

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stratusdns/stratus/internal/api"
	"github.com/stratusdns/stratus/internal/auth"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/control/controltest"
)

// TestServiceGetApplyKeepsHeaderSecrets: service get shows a check's
// header values redacted, and applying what it printed, unchanged, keeps
// the stored values.
func TestServiceGetApplyKeepsHeaderSecrets(t *testing.T) {
	svc, _ := controltest.New(t, control.Options{})
	tok, _, err := svc.Tokens.CreateToken(context.Background(), "admin", []string{"*"}, auth.Local("test"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.New(api.PlaneControl(svc), api.Options{}))
	t.Cleanup(srv.Close)
	s := &testAPI{t: t, url: srv.URL, token: tok}
	s.mustCLI("zone", "create", "example.com", "--ns", "ns1.example.com.")
	s.cliIn(`
name: api.example.com
pools:
  - name: eu
    check: {type: https, path: /healthz, headers: {Authorization: "Bearer s3cr3t"}}
`, "service", "create", "-f", "-")

	out := s.mustCLI("service", "get", "api.example.com")
	if strings.Contains(out, "s3cr3t") || !strings.Contains(out, `"Authorization": "\u003credacted\u003e"`) {
		t.Fatalf("service get:\n%s", out)
	}
	file := filepath.Join(t.TempDir(), "svc.json")
	if err := os.WriteFile(file, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := s.mustCLI("service", "apply", "-f", file); strings.Contains(got, "s3cr3t") {
		t.Errorf("service apply shows the secret: %s", got)
	}
	stored, err := svc.Services.GetService(context.Background(), "api.example.com.")
	if err != nil {
		t.Fatal(err)
	}
	if h := stored.Pools[0].Check.Headers["Authorization"]; h != "Bearer s3cr3t" {
		t.Errorf("after applying service get's output, the stored header is %q", h)
	}
}
