package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stratusdns/stratus/pkg/apiv1"
)

// TestTSIGCreatePrintsOnlyGeneratedSecrets: a generated secret is shown
// once; a secret the user gave is never printed back, in either format.
func TestTSIGCreatePrintsOnlyGeneratedSecrets(t *testing.T) {
	s := newTestAPI(t)
	var gen apiv1.CreatedTSIGKey
	if err := json.Unmarshal([]byte(s.mustCLI("tsig", "create", "gen", "-o", "json")), &gen); err != nil || gen.Secret == "" {
		t.Fatalf("generated key: %+v %v", gen, err)
	}
	if out := s.mustCLI("tsig", "create", "gen2"); !strings.Contains(out, "secret") || strings.Count(out, "\n") != 3 {
		t.Errorf("generated key, table: %q", out)
	}
	given := "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	for _, format := range []string{"table", "json"} {
		name := "peer-" + format
		out, errOut, code := s.cliIn(given+"\n", "tsig", "create", name, "--algorithm", "hmac-sha512", "--secret-file", "-", "-o", format)
		if code != 0 || strings.Contains(out, given) || !strings.Contains(out, name+".") || !strings.Contains(out, "hmac-sha512") {
			t.Errorf("-o %s with a given secret: exit %d\n%s%s", format, code, out, errOut)
		}
	}
}
