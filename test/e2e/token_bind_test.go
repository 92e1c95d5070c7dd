package e2e

import (
	"encoding/json"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stratusdns/stratus/pkg/apiv1"
)

// TestTokenBindingsCLI: tokens created with the CLI bound to a service act
// only on it (exit 5 naming the token, the binding and the object
// otherwise), cannot clear the operator's override by registering again
// elsewhere, and a bound token administrator cannot mint an unbound
// token. A token with an expiry is refused once it passes, saying when;
// token list shows bindings, expiry and, after the server wrote it (at
// the latest when it stops), the last use.
func TestTokenBindingsCLI(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	s.mustCLI("zone", "create", "fn.example.com", "--ns", "ns1.example.net.")
	for _, svc := range []string{"api.fn.example.com", "web.fn.example.com"} {
		if st, body := s.api("POST", "/v1/services", `{"name":"`+svc+`","pools":[{"name":"p"},{"name":"q","priority":2}]}`); st != 201 {
			t.Fatalf("create %s: %d %s", svc, st, body)
		}
	}
	s.mustCLI("endpoint", "register", "web.fn.example.com", "w", "--pool", "p", "--address", "192.0.2.1")

	create := func(args ...string) apiv1.CreatedToken {
		t.Helper()
		var ct apiv1.CreatedToken
		out := s.mustCLI(append([]string{"token", "create"}, append(args, "-o", "json")...)...)
		if err := json.Unmarshal([]byte(out), &ct); err != nil || ct.Secret == "" {
			t.Fatalf("token create %v: %s %v", args, out, err)
		}
		return ct
	}
	as := func(tok string, args ...string) (string, string, int) {
		t.Helper()
		return runCLI(t, append([]string{"--server", "http://" + s.apiAddr, "--token", tok}, args...), nil)
	}
	fn := create("fn", "--scope", "endpoints:write", "--service", "api.fn.example.com", "--expires-in", "720h")
	if len(fn.Services) != 1 || fn.Services[0] != "api.fn.example.com." || fn.Expires.IsZero() {
		t.Errorf("created %+v", fn.Token)
	}
	if out, errOut, code := as(fn.Secret, "endpoint", "register", "api.fn.example.com", "a", "--pool", "p", "--address", "192.0.2.10"); code != 0 {
		t.Fatalf("register in its own service: exit %d %s%s", code, out, errOut)
	}
	for _, args := range [][]string{
		{"endpoint", "register", "web.fn.example.com", "evil", "--pool", "p", "--address", "192.0.2.66"},
		{"endpoint", "deregister", "web.fn.example.com", "w"},
		{"endpoint", "renew", "web.fn.example.com", "w"},
	} {
		_, errOut, code := as(fn.Secret, args...)
		if code != 5 || !strings.Contains(errOut, `token "fn" is bound to service api.fn.example.com.: it cannot act on service web.fn.example.com.`) {
			t.Errorf("%v with a token bound to api.fn.example.com: exit %d %s", args, code, errOut)
		}
	}
	// The operator drains a; the function registers it again elsewhere.
	s.mustCLI("endpoint", "override", "api.fn.example.com", "a", "down", "--reason", "drained")
	if out, errOut, code := as(fn.Secret, "endpoint", "register", "api.fn.example.com", "a", "--pool", "q", "--address", "192.0.2.11"); code != 0 {
		t.Fatalf("register again: exit %d %s%s", code, out, errOut)
	}
	var eps apiv1.EndpointList
	if err := json.Unmarshal([]byte(s.mustCLI("endpoint", "list", "api.fn.example.com", "-o", "json")), &eps); err != nil {
		t.Fatal(err)
	}
	if len(eps.Endpoints) != 1 || eps.Endpoints[0].Address != "192.0.2.11" || eps.Endpoints[0].Override == nil || eps.Endpoints[0].Override.Reason != "drained" {
		t.Errorf("after registering again elsewhere: %+v", eps.Endpoints)
	}
	if out := s.mustCLI("endpoint", "list", "web.fn.example.com"); !strings.Contains(out, "w") || strings.Contains(out, "evil") {
		t.Errorf("web.fn.example.com after the refusals: %s", out)
	}

	// A bound token administrator mints only tokens bound within.
	team := create("team", "--scope", "tokens:admin", "--scope", "services:write", "--service", "api.fn.example.com")
	if _, errOut, code := as(team.Secret, "token", "create", "x", "--scope", "endpoints:write"); code != 5 || !strings.Contains(errOut, "cannot grant a token without a service binding") {
		t.Errorf("a bound admin minting an unbound token: exit %d %s", code, errOut)
	}
	if out, errOut, code := as(team.Secret, "token", "create", "fn-p", "--scope", "endpoints:write", "--service", "api.fn.example.com", "--pool", "p,q"); code != 0 {
		t.Errorf("a bound admin minting a narrower token: exit %d %s%s", code, out, errOut)
	}
	if out, _, _ := as(team.Secret, "token", "list"); strings.Contains(out, "admin ") || !strings.Contains(out, "fn-p") {
		t.Errorf("the bound admin's token list: %s", out)
	}

	// Expiry.
	if _, errOut, code := s.cli("token", "create", "old", "--scope", "zones:read", "--expires-at", "2020-01-01T00:00:00Z"); code != 2 || !strings.Contains(errOut, "is not in the future") {
		t.Errorf("an expiry in the past: exit %d %s", code, errOut)
	}
	short := create("short", "--scope", "zones:read", "--expires-in", "2s")
	want := `token "short" expired at ` + short.Expires.UTC().Format(time.RFC3339)
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, errOut, code := as(short.Secret, "zone", "list")
		if code == 5 && strings.Contains(errOut, want) {
			break
		}
		if code != 0 || time.Now().After(deadline) {
			t.Fatalf("a token past its expiry: exit %d %s, want 5 and %q", code, errOut, want)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// The last use is written at the latest when the server stops.
	list := s.mustCLI("token", "list")
	if !strings.Contains(list, "service=api.fn.example.com.") || !strings.Contains(list, fn.Expires.UTC().Format(time.RFC3339)) || !strings.Contains(list, "(expired)") {
		t.Errorf("token list: %s", list)
	}
	s.signal(syscall.SIGTERM)
	<-s.exited
	s2 := startServer(t, s.dataDir)
	var toks apiv1.TokenList
	if err := json.Unmarshal([]byte(s2.mustCLI("token", "list", "-o", "json")), &toks); err != nil {
		t.Fatal(err)
	}
	for _, tk := range toks.Tokens {
		if tk.Name == "fn" && (tk.LastUsed.IsZero() || tk.LastUsed.Before(fn.Created)) {
			t.Errorf("fn's last use after a restart: %+v", tk)
		}
	}
}
