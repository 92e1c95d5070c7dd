// Package testutil holds helpers shared by tests: finding the external
// tools some tests drive (dig, kdig, named-checkzone, ...), starting a
// small DNS server for a test, and a certificate authority for tests of
// TLS.
//
// A test that needs a tool calls Tool. When the tool is missing the test is
// skipped with a message naming it, unless STRATUS_REQUIRE_TOOLS=1 is set
// (as `make test` and CI do), in which case it fails: a required tool that
// is not installed must never turn into a silent pass.
package testutil

import (
	"os"
	"os/exec"
	"testing"
)

// RequireToolsEnv is the environment variable that turns missing-tool
// skips into failures.
const RequireToolsEnv = "STRATUS_REQUIRE_TOOLS"

// Tool returns the path of the named executable, or skips (fails under
// STRATUS_REQUIRE_TOOLS=1) the test when it is not installed.
func Tool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	// Daemons (named, nsd, knotd) live in sbin, which a user's PATH may
	// not include.
	for _, dir := range []string{"/usr/sbin", "/sbin"} {
		if p, err := exec.LookPath(dir + "/" + name); err == nil {
			return p
		}
	}
	if os.Getenv(RequireToolsEnv) == "1" {
		t.Fatalf("required tool %q is not installed (%s=1); run `make test` to install it", name, RequireToolsEnv)
	}
	t.Skipf("skipping: tool %q is not installed (set %s=1 to make this a failure)", name, RequireToolsEnv)
	return ""
}
