package main

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/stratusdns/stratus/internal/api"
	"github.com/stratusdns/stratus/internal/auth"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/control/controltest"
)

// testAPI is the HTTP API on a fresh store, served on loopback for the
// test's CLI calls.
type testAPI struct {
	t     *testing.T
	url   string
	token string
}

func newTestAPI(t *testing.T) *testAPI {
	t.Helper()
	svc, _ := controltest.New(t, control.Options{})
	tok, _, err := svc.Tokens.CreateToken(context.Background(), "admin", []string{"*"}, auth.Local("test"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.New(api.PlaneControl(svc), api.Options{}))
	t.Cleanup(srv.Close)
	return &testAPI{t: t, url: srv.URL, token: tok}
}

// cli runs the CLI against the API.
func (s *testAPI) cli(args ...string) (stdout, stderr string, code int) {
	s.t.Helper()
	return runIn(s.t, append([]string{"--server", s.url, "--token", s.token}, args...)...)
}

// cliIn is cli with standard input.
func (s *testAPI) cliIn(stdin string, args ...string) (stdout, stderr string, code int) {
	s.t.Helper()
	return runWith(s.t, stdin, append([]string{"--server", s.url, "--token", s.token}, args...)...)
}

// mustCLI runs the CLI and fails the test unless it succeeds.
func (s *testAPI) mustCLI(args ...string) string {
	s.t.Helper()
	out, errOut, code := s.cli(args...)
	if code != 0 {
		s.t.Fatalf("stratus %v: exit %d\n%s%s", args, code, out, errOut)
	}
	return out
}
