package e2e

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/testutil"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

// TestNSUpdate drives RFC 2136 updates with BIND's nsupdate: adds,
// replacements and deletes, every prerequisite kind passing and failing
// with its rcode, the apex protected, a wrong key and no key refused; each
// accepted change is in the next answer and reaches a BIND secondary, and
// the server has the updates as IXFR.
func TestNSUpdate(t *testing.T) {
	nsupdate := testutil.Tool(t, "nsupdate")
	s := startServer(t, "")
	var key apiv1.CreatedTSIGKey
	if err := json.Unmarshal([]byte(s.mustCLI("tsig", "create", "upd.test", "--algorithm", "hmac-sha512", "-o", "json")), &key); err != nil {
		t.Fatal(err)
	}
	s.mustCLI("zone", "create", "upd.test", "--ns", "ns1.upd.test", "--allow-update", "key=upd.test", "--allow-transfer", "key=upd.test")
	s.mustCLI("record", "add", "upd.test", "ns1", "A", "192.0.2.53")
	sec := startNamedSecondary(t, s.dnsAddr, tsigKeyConf{"upd.test", "hmac-sha512", key.Secret}, true, "upd.test")
	sec.waitAnswer("ns1.upd.test.", dns.TypeA, 30*time.Second, hasA("192.0.2.53"))
	before := soaSerial(t, sec.addr, "upd.test.")

	host, port, _ := strings.Cut(s.dnsAddr, ":")
	run := func(keyArg string, cmds ...string) (string, int) {
		t.Helper()
		script := "server " + host + " " + port + "\nzone upd.test\n" + strings.Join(cmds, "\n") + "\nsend\n"
		args := []string{}
		if keyArg != "" {
			args = append(args, "-y", keyArg)
		}
		cmd := exec.Command(nsupdate, args...)
		cmd.Stdin = strings.NewReader(script)
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), code
	}
	good := "hmac-sha512:upd.test:" + key.Secret
	for _, tc := range []struct {
		name  string
		key   string
		cmds  []string
		rcode string // "" for success
	}{
		{"add with name-not-in-use", good, []string{"prereq nxdomain www.upd.test", "update add www.upd.test 60 A 192.0.2.1", "update add www.upd.test 60 A 192.0.2.2"}, ""},
		{"name not in use fails", good, []string{"prereq nxdomain www.upd.test", "update add www.upd.test 60 A 192.0.2.9"}, "YXDOMAIN"},
		{"name in use", good, []string{"prereq yxdomain www.upd.test", "update add www.upd.test 60 TXT \"v1\""}, ""},
		{"name in use fails", good, []string{"prereq yxdomain nope.upd.test", "update add nope.upd.test 60 A 192.0.2.9"}, "NXDOMAIN"},
		{"rrset exists", good, []string{"prereq yxrrset www.upd.test A", "update delete www.upd.test A 192.0.2.2"}, ""},
		{"rrset exists fails", good, []string{"prereq yxrrset www.upd.test AAAA", "update add www.upd.test 60 A 192.0.2.9"}, "NXRRSET"},
		{"rrset does not exist", good, []string{"prereq nxrrset www.upd.test AAAA", "update add www.upd.test 60 AAAA 2001:db8::1"}, ""},
		{"rrset does not exist fails", good, []string{"prereq nxrrset www.upd.test A", "update add www.upd.test 60 A 192.0.2.9"}, "YXRRSET"},
		{"rrset equals (replace)", good, []string{"prereq yxrrset www.upd.test A 192.0.2.1", "update delete www.upd.test A", "update add www.upd.test 60 A 192.0.2.3"}, ""},
		{"rrset equals fails", good, []string{"prereq yxrrset www.upd.test A 192.0.2.1", "update add www.upd.test 60 A 192.0.2.9"}, "NXRRSET"},
		{"apex SOA and NS are kept", good, []string{"update delete upd.test SOA", "update delete upd.test NS", "update delete upd.test", "update add gone.upd.test 60 A 192.0.2.4", "update delete gone.upd.test"}, ""},
		{"outside the zone", good, []string{"update add www.other.test 60 A 192.0.2.9"}, "NOTZONE"},
		{"no key", "", []string{"update add nokey.upd.test 60 A 192.0.2.9"}, "REFUSED"},
		{"wrong key", "hmac-sha512:upd.test:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", []string{"update add badkey.upd.test 60 A 192.0.2.9"}, "NOTAUTH"},
	} {
		out, code := run(tc.key, tc.cmds...)
		if tc.rcode == "" && code != 0 {
			t.Errorf("%s: exit %d: %s", tc.name, code, out)
		}
		if tc.rcode != "" && (code == 0 || !strings.Contains(out, tc.rcode)) {
			t.Errorf("%s: exit %d, want %s: %s", tc.name, code, tc.rcode, out)
		}
	}
	// The answers, from Stratus and from the secondary.
	for _, addr := range []string{s.dnsAddr, sec.addr} {
		n := &namedSecondary{t: t, addr: addr}
		n.waitAnswer("www.upd.test.", dns.TypeA, 10*time.Second, func(r *dns.Msg) bool { return len(r.Answer) == 1 && hasA("192.0.2.3")(r) })
		n.waitAnswer("www.upd.test.", dns.TypeAAAA, 5*time.Second, func(r *dns.Msg) bool { return len(r.Answer) == 1 })
		n.waitAnswer("www.upd.test.", dns.TypeTXT, 5*time.Second, func(r *dns.Msg) bool { return len(r.Answer) == 1 })
		n.waitAnswer("upd.test.", dns.TypeNS, 5*time.Second, func(r *dns.Msg) bool { return len(r.Answer) == 1 })
		for _, name := range []string{"nope.upd.test.", "nokey.upd.test.", "badkey.upd.test.", "gone.upd.test."} {
			n.waitAnswer(name, dns.TypeA, 5*time.Second, func(r *dns.Msg) bool { return r.Rcode == dns.RcodeNameError })
		}
	}
	var j apiv1.Journal
	if err := json.Unmarshal([]byte(s.mustCLI("zone", "journal", "upd.test", "--from", "1", "-o", "json")), &j); err != nil {
		t.Fatal(err)
	}
	if last := j.Entries[len(j.Entries)-1]; last.Actor != "upd.test." {
		t.Errorf("journal actor %q, want the key name", last.Actor)
	}
	checkIncremental(t, s.dnsAddr, "upd.test.", before, soaSerial(t, s.dnsAddr, "upd.test."), tsigKeyConf{"upd.test", "hmac-sha512", key.Secret})
}
