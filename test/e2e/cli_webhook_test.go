package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stratusdns/stratus/internal/webhook"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

// TestCLIWebhook: stratus webhook create, list, get, test and delete
// against a real receiver on loopback. The generated secret is printed by
// create alone; test sends a signed alert of kind test and reports the
// receiver's answer, exiting 1 when it refuses.
func TestCLIWebhook(t *testing.T) {
	var mu sync.Mutex
	var got []*http.Request
	var bodies [][]byte
	refuse := false
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		got, bodies = append(got, r), append(bodies, b)
		if refuse {
			w.WriteHeader(http.StatusForbidden)
		}
	}))
	defer rc.Close()

	s := startServer(t, t.TempDir())
	out := s.mustCLI("webhook", "create", "ops", "--url", rc.URL+"/hook", "--event", "failover_started,drill_failed", "--service", "api.example.com", "-o", "json")
	var created apiv1.CreatedWebhook
	if err := json.Unmarshal([]byte(out), &created); err != nil || len(created.Secret) != 64 || created.Services[0] != "api.example.com." {
		t.Fatalf("webhook create: %v\n%s", err, out)
	}
	secretFile := filepath.Join(t.TempDir(), "secret")
	const given = "a-secret-from-a-file-0123"
	if err := os.WriteFile(secretFile, []byte(given+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out = s.mustCLI("webhook", "create", "slack", "--url", rc.URL+"/slack", "--secret-file", secretFile)
	if strings.Contains(out, given) || !strings.Contains(out, "(the one given, not shown)") {
		t.Errorf("create with --secret-file printed:\n%s", out)
	}
	if _, errOut, code := s.cli("webhook", "create", "bad", "--url", "ftp://x.example/"); code != 2 || !strings.Contains(errOut, "url") {
		t.Errorf("create with an ftp URL: exit %d %q", code, errOut)
	}

	out = s.mustCLI("webhook", "list")
	rows := lines(out)
	if len(rows) != 3 || !strings.HasPrefix(rows[0], "NAME") || !strings.Contains(rows[1], "failover_started,drill_failed") || !strings.Contains(rows[2], "slack") {
		t.Errorf("webhook list:\n%s", out)
	}
	for _, args := range [][]string{{"webhook", "list", "-o", "json"}, {"webhook", "get", "ops"}, {"webhook", "get", "slack", "-o", "json"}} {
		out := s.mustCLI(args...)
		if strings.Contains(out, created.Secret) || strings.Contains(out, given) || !strings.Contains(out, "redacted") {
			t.Errorf("stratus %s shows the secret or no placeholder:\n%s", strings.Join(args, " "), out)
		}
	}

	out = s.mustCLI("webhook", "test", "slack")
	mu.Lock()
	if len(got) != 1 || got[0].URL.Path != "/slack" || got[0].Header.Get(webhook.HeaderEvent) != "test" ||
		got[0].Header.Get(webhook.HeaderSignature) != webhook.Sign(given, got[0].Header.Get(webhook.HeaderTimestamp), bodies[0]) ||
		!strings.Contains(out, got[0].Header.Get(webhook.HeaderDelivery)) {
		t.Errorf("webhook test: %d requests, output:\n%s", len(got), out)
	}
	refuse = true
	mu.Unlock()
	if out, _, code := s.cli("webhook", "test", "ops"); code != 1 || !strings.Contains(out, "403") {
		t.Errorf("webhook test against a refusing receiver: exit %d\n%s", code, out)
	}
	if _, _, code := s.cli("webhook", "test", "nope"); code != 3 {
		t.Errorf("webhook test of a missing webhook: exit %d, want 3", code)
	}

	if out := s.mustCLI("webhook", "delete", "ops"); !strings.Contains(out, "webhook ops deleted") {
		t.Errorf("webhook delete:\n%s", out)
	}
	if _, _, code := s.cli("webhook", "get", "ops"); code != 3 {
		t.Errorf("get a deleted webhook: exit %d, want 3", code)
	}
	if rows := lines(s.mustCLI("webhook", "list")); len(rows) != 2 {
		t.Errorf("after delete: %v", rows)
	}
}
