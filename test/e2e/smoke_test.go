package e2e

import (
	"strings"
	"testing"
)

func TestDemoQuickStart(t *testing.T) {
	s := startServer(t, "", "--demo")
	out := s.mustCLI("zone", "list")
	if !strings.Contains(out, "demo.stratus.test.") {
		t.Errorf("zone list: %s", out)
	}
}
