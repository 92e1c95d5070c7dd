package e2e

import (
	"strings"
	"testing"
	"time"
)

// TestOverrideEndsByItself: an endpoint forced down with --ttl comes back
// into the answers when the time is up, with nobody clearing it.
func TestOverrideEndsByItself(t *testing.T) {
	t.Parallel()
	const svc = "api.fn.example.com"
	s := steerStart(t, "", "")
	steerZone(t, s, "fn.example.com")
	file := steerWrite(t, "svc.yaml", "name: api.fn.example.com\nttl: 5\npolicy: multivalue\npools:\n  - name: p\n    check: {type: none}\n")
	steerMustCLI(t, s, "service", "create", "-f", file)
	steerMustCLI(t, s, "endpoint", "register", svc, "a", "--pool", "p", "--address", "192.0.2.1")
	steerMustCLI(t, s, "endpoint", "register", svc, "b", "--pool", "p", "--address", "192.0.2.2")
	steerWaitA(t, s, svc, "192.0.2.1,192.0.2.2", 5*time.Second)

	// 5s: time for a loaded machine to see the override before it ends.
	out := steerMustCLI(t, s, "endpoint", "override", svc, "a", "down", "--ttl", "5s", "--reason", "drill")
	if !strings.Contains(out, "override: down") {
		t.Errorf("override printed %q", out)
	}
	ov := steerEndpoints(t, s, svc)["a"].Override
	if ov == nil || ov.Expires == nil {
		t.Fatalf("override of a: %+v, want one with an end", ov)
	}
	steerWaitA(t, s, svc, "192.0.2.2", 5*time.Second)
	steerWaitA(t, s, svc, "192.0.2.1,192.0.2.2", 10*time.Second)
	if back := time.Now(); back.Before(ov.Expires.Add(-100 * time.Millisecond)) {
		t.Errorf("the endpoint came back at %v, before its override ended at %v", back, ov.Expires)
	}
	if _, errOut, code := steerCLI(t, s, "endpoint", "override", svc, "a", "clear", "--ttl", "2s"); code != 2 || !strings.Contains(errOut, "--ttl") {
		t.Errorf("clear with --ttl: exit %d %s", code, errOut)
	}
}
