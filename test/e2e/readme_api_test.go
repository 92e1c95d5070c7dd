package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stratusdns/stratus/internal/testutil"
)

// TestREADMECurlExample runs the README's curl example of the HTTP API, as
// written there, against a server whose zone is at the serial it names.
func TestREADMECurlExample(t *testing.T) {
	curl := testutil.Tool(t, "curl")
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## The HTTP API\n")
	_, block, ok2 := strings.Cut(section, "```sh\n")
	script, _, ok3 := strings.Cut(block, "```\n")
	if !ok || !ok2 || !ok3 || !strings.Contains(script, "curl -s -X PATCH") {
		t.Fatalf("README.md has no curl example under \"## The HTTP API\"")
	}

	s := startServer(t, "")
	s.mustCLI("zone", "create", "example.com", "--ns", "ns1.example.com.")
	s.mustCLI("record", "add", "example.com", "ns1", "A", "192.0.2.53")
	s.mustCLI("record", "add", "example.com", "@", "TXT", `"v=spf1 -all"`) // serial 3, as the example's If-Match says

	// Where the example runs: beside the server's data directory, with
	// the server at the address the README gives replaced by this one's.
	dir := t.TempDir()
	if err := os.Symlink(s.dataDir, filepath.Join(dir, "stratus-data")); err != nil {
		t.Fatal(err)
	}
	script = strings.ReplaceAll(script, "127.0.0.1:8053", s.apiAddr)
	script = strings.ReplaceAll(script, "curl ", curl+" -w '\\nHTTP %{http_code}\\n' ")
	cmd := exec.Command("sh", "-e", "-c", script)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the README's example: %v\n%s", err, out)
	}
	if got := strings.Count(string(out), "HTTP 200"); got != 2 {
		t.Errorf("the README's example: %d of 2 requests answered 200:\n%s", got, out)
	}
	if got := queryA(t, s.dnsAddr, "www.example.com."); got != "192.0.2.7" {
		t.Errorf("www.example.com. after the README's PATCH: %q\n%s", got, out)
	}
}
