package e2e

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/stratusdns/stratus/internal/testutil"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

// TestTSIGErrorsNameTheError signs requests with a wrong secret and with a
// key the server does not know, with BIND's nsupdate and dig: the tools
// must report the real error (a failed signature, an unknown key), not
// clocks out of step, which they say when a BADSIG or BADKEY reply's TSIG
// carries no time (RFC 8945 section 5.3.2: the reply is unsigned but
// carries the server's time).
func TestTSIGErrorsNameTheError(t *testing.T) {
	nsupdate, dig := testutil.Tool(t, "nsupdate"), testutil.Tool(t, "dig")
	s := startServer(t, "")
	var key apiv1.CreatedTSIGKey
	if err := json.Unmarshal([]byte(s.mustCLI("tsig", "create", "tsig.test", "--algorithm", "hmac-sha256", "-o", "json")), &key); err != nil {
		t.Fatal(err)
	}
	s.mustCLI("zone", "create", "tsig.test", "--ns", "ns1.tsig.test", "--allow-update", "key=tsig.test", "--allow-transfer", "key=tsig.test")
	s.mustCLI("record", "add", "tsig.test", "ns1", "A", "192.0.2.53")
	host, port, _ := strings.Cut(s.dnsAddr, ":")
	run := func(path, stdin string, args ...string) string {
		t.Helper()
		cmd := exec.Command(path, args...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		if _, ok := err.(*exec.ExitError); err != nil && !ok {
			t.Fatal(err)
		}
		return string(out)
	}
	const wrongSecret = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	update := "server " + host + " " + port + "\nzone tsig.test\nupdate add x.tsig.test 60 A 192.0.2.9\nsend\n"
	for _, tc := range []struct {
		name string
		tool string
		key  string
		args []string
		want string // the TSIG error the output must name
	}{
		{"nsupdate, wrong secret", nsupdate, "hmac-sha256:tsig.test:" + wrongSecret, nil, "BADSIG"},
		{"nsupdate, unknown key", nsupdate, "hmac-sha256:nokey.test:" + wrongSecret, nil, "BADKEY"},
		{"dig query, wrong secret", dig, "hmac-sha256:tsig.test:" + wrongSecret, []string{"@" + host, "-p", port, "ns1.tsig.test", "A"}, "BADSIG"},
		{"dig query, unknown key", dig, "hmac-sha256:nokey.test:" + wrongSecret, []string{"@" + host, "-p", port, "ns1.tsig.test", "A"}, "BADKEY"},
		{"dig AXFR, wrong secret", dig, "hmac-sha256:tsig.test:" + wrongSecret, []string{"@" + host, "-p", port, "tsig.test", "AXFR"}, "BADSIG"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdin := ""
			if tc.tool == nsupdate {
				stdin = update
			}
			out := run(tc.tool, stdin, append([]string{"-y", tc.key}, tc.args...)...)
			if strings.Contains(strings.ToLower(out), "unsynchronized") {
				t.Errorf("the tool blames the clocks:\n%s", out)
			}
			// BIND's tools: "tsig indicates error" once the reply's TSIG
			// passes the time check, then the error itself.
			if !strings.Contains(out, "tsig indicates error") || !strings.Contains(out, tc.want) {
				t.Errorf("output does not say the reply's TSIG holds the error %s:\n%s", tc.want, out)
			}
		})
	}
}
