package e2e

import (
	"encoding/json"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/testutil"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

const legacyZone = `$TTL 300
@ SOA ns1 hostmaster 1 3600 1 6 60
@ NS ns1
ns1 A 192.0.2.53
www A 192.0.2.1
`

// TestSecondaryOfBIND makes Stratus a secondary of a BIND primary: the
// first transfer (TSIG), a change made with nsupdate on BIND that arrives
// by NOTIFY (the SOA refresh is an hour) and is journaled as BIND's
// difference, the zone refusing edits through the API, and the zone
// expiring (SERVFAIL) once BIND is gone for the SOA expire time. It waits
// on DNS answers and the zone's state, never on the server's log, which is
// written after the zone is served.
func TestSecondaryOfBIND(t *testing.T) {
	nsupdate := testutil.Tool(t, "nsupdate")
	s := startServer(t, "")
	var key apiv1.CreatedTSIGKey
	if err := json.Unmarshal([]byte(s.mustCLI("tsig", "create", "legacy-xfr", "-o", "json")), &key); err != nil {
		t.Fatal(err)
	}
	bind := startNamedPrimary(t, "legacy.test.", legacyZone, tsigKeyConf{"legacy-xfr", "hmac-sha256", key.Secret}, s.dnsAddr)

	out := s.mustCLI("zone", "create", "legacy.test", "--primary", bind.addr+",key=legacy-xfr")
	if !strings.Contains(out, "primaries") {
		t.Errorf("zone create printed:\n%s", out)
	}
	own := &namedSecondary{t: t, addr: s.dnsAddr}
	own.waitAnswer("www.legacy.test.", dns.TypeA, 30*time.Second, hasA("192.0.2.1"))
	// The first transfer: BIND's serial, the refresh recorded, and the
	// zone's first journal entry, a full load from the primary.
	s.waitZone("legacy.test", "the first transfer recorded", 30*time.Second, func(z apiv1.Zone) bool {
		return z.Serial != nil && *z.Serial == 1 && z.Secondary != nil && z.Secondary.Refreshed != nil
	})
	fromBIND := "primary " + bind.addr
	if j := s.journal("legacy.test"); len(j) != 1 || !j[0].Reset || j[0].NewSerial != 1 || j[0].Actor != fromBIND {
		t.Errorf("journal after the first transfer: %+v", j)
	}

	// A change on BIND: NOTIFY, then IXFR.
	host, port, _ := strings.Cut(bind.addr, ":")
	update := func(cmds string) {
		t.Helper()
		cmd := exec.Command(nsupdate, "-y", "hmac-sha256:legacy-xfr:"+key.Secret)
		cmd.Stdin = strings.NewReader("server " + host + " " + port + "\nzone legacy.test\n" + cmds + "send\n")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("nsupdate on BIND: %v\n%s", err, b)
		}
	}
	update("update add new.legacy.test 60 A 192.0.2.7\nupdate delete www.legacy.test A\n")
	start := time.Now()
	// The SOA refresh is an hour: only the NOTIFY can bring the change.
	own.waitAnswer("new.legacy.test.", dns.TypeA, 30*time.Second, hasA("192.0.2.7"))
	t.Logf("the change on BIND answered by Stratus after %v", time.Since(start).Round(time.Millisecond))
	own.waitAnswer("www.legacy.test.", dns.TypeA, 30*time.Second, func(r *dns.Msg) bool { return r.Rcode == dns.RcodeNameError })
	s.waitZone("legacy.test", "serial 2", 30*time.Second, func(z apiv1.Zone) bool { return z.Serial != nil && *z.Serial == 2 })
	// The change is journaled as the primary's difference: the one record
	// removed, the one added (besides the SOA).
	j := s.journal("legacy.test")
	last := j[len(j)-1]
	if len(j) != 2 || last.Reset || last.OldSerial != 1 || last.NewSerial != 2 || last.Actor != fromBIND ||
		!hasLine(last.Removed, "www.legacy.test.", "192.0.2.1") || !hasLine(last.Added, "new.legacy.test.", "192.0.2.7") {
		t.Errorf("journal after the change on BIND: %+v", j)
	}

	// Edits go to the primary.
	if _, errOut, code := s.cli("record", "add", "legacy.test", "x", "A", "192.0.2.9"); code != 2 || !strings.Contains(errOut, "secondary zone") {
		t.Errorf("record add on a secondary zone: exit %d %s", code, errOut)
	}
	var z apiv1.Zone
	if err := json.Unmarshal([]byte(s.mustCLI("zone", "get", "legacy.test", "-o", "json")), &z); err != nil {
		t.Fatal(err)
	}
	if z.Secondary == nil || z.Secondary.Refreshed == nil || z.Secondary.Expired || (z.Serial == nil || *z.Serial < 2) {
		t.Errorf("zone state: %+v %+v", z, z.Secondary)
	}

	// A refresh interval of one second, then BIND goes away: after the SOA
	// expire (6s) the zone answers SERVFAIL.
	update("update add legacy.test 60 SOA ns1.legacy.test. hostmaster.legacy.test. 10 1 1 6 60\n")
	own.waitAnswer("legacy.test.", dns.TypeSOA, 30*time.Second, func(r *dns.Msg) bool {
		return len(r.Answer) == 1 && r.Answer[0].(*dns.SOA).Refresh == 1
	})
	bind.stop()
	own.waitAnswer("new.legacy.test.", dns.TypeA, 60*time.Second, func(r *dns.Msg) bool { return r.Rcode == dns.RcodeServerFailure })
	s.waitZone("legacy.test", "expired with the failure recorded", 30*time.Second, func(z apiv1.Zone) bool {
		return z.Secondary != nil && z.Secondary.Expired && z.Secondary.LastError != ""
	})
}

// hasLine reports whether one of the zone-file lines starts with owner and
// ends with data.
func hasLine(lines []string, owner, data string) bool {
	return slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, owner) && strings.HasSuffix(l, data) })
}

// TestSecondaryBeforeFirstTransfer: a secondary zone whose primary has not
// answered yet has no serial, and no serial policy of its own; neither the
// CLI nor the API claims one.
func TestSecondaryBeforeFirstTransfer(t *testing.T) {
	s := startServer(t, "")
	primary := "127.0.0.1:" + strconv.Itoa(freePort(t)) // nothing listens there
	s.mustCLI("zone", "create", "pending.test", "--primary", primary)

	get := s.mustCLI("zone", "get", "pending.test")
	for _, want := range []string{`(?m)^serial +-$`, `(?m)^serial policy +primary's$`, `(?m)^refreshed +never$`} {
		if !regexp.MustCompile(want).MatchString(get) {
			t.Errorf("zone get does not match %s:\n%s", want, get)
		}
	}
	list := s.mustCLI("zone", "list")
	if !regexp.MustCompile(`(?m)^pending\.test\. +- +0 +0 +primary's `).MatchString(list) {
		t.Errorf("zone list shows a serial or policy for the secondary zone:\n%s", list)
	}
	var raw map[string]any
	if err := json.Unmarshal([]byte(s.mustCLI("zone", "get", "pending.test", "-o", "json")), &raw); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"serial", "serial_policy"} {
		if v, ok := raw[key]; ok {
			t.Errorf("zone JSON has %s %v for a zone without a transfer", key, v)
		}
	}

	// A primary zone keeps both.
	s.mustCLI("zone", "create", "own.test", "--ns", "ns1.own.test.")
	raw = nil
	if err := json.Unmarshal([]byte(s.mustCLI("zone", "get", "own.test", "-o", "json")), &raw); err != nil {
		t.Fatal(err)
	}
	if raw["serial"] != 1.0 || raw["serial_policy"] != "increment" {
		t.Errorf("primary zone: serial %v, policy %v", raw["serial"], raw["serial_policy"])
	}
}
