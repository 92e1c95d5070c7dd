package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

// TestSteeredOnBINDSecondary: a failover service's answer for a client
// with no location is part of the transferred zone; when the primary's
// endpoints fail, the BIND and NSD secondaries (notified, never polling)
// answer the backup, and again the primary once it recovers.
func TestSteeredOnBINDSecondary(t *testing.T) {
	const svc = "api.fn.example.com"
	s := steerStart(t, "", "zones:\n  notify_delay: 50ms\n")
	var key apiv1.CreatedTSIGKey
	if err := json.Unmarshal([]byte(s.mustCLI("tsig", "create", "xfr", "-o", "json")), &key); err != nil {
		t.Fatal(err)
	}
	steerZone(t, s, "fn.example.com")
	s.mustCLI("zone", "update", "fn.example.com", "--allow-transfer", "key=xfr")
	hs, port := steerHTTPGroup(t, "127.0.0.2", "127.0.0.3", "127.0.0.4")
	file := steerWrite(t, "svc.yaml", fmt.Sprintf(`name: %s
ttl: 20
degraded_ttl: 5
policy: failover
pools:
  - name: primary
    priority: 1
    check: {type: http, path: /healthz, port: %d, interval: 1s, fall: 1, rise: 1}
  - name: backup
    priority: 2
    check: {type: http, path: /healthz, port: %d, interval: 1s, fall: 1, rise: 1}
`, svc, port, port))
	steerMustCLI(t, s, "service", "create", "-f", file)
	steerMustCLI(t, s, "endpoint", "register", svc, "p1", "--pool", "primary", "--address", "127.0.0.2")
	steerMustCLI(t, s, "endpoint", "register", svc, "p2", "--pool", "primary", "--address", "127.0.0.3")
	steerMustCLI(t, s, "endpoint", "register", svc, "b1", "--pool", "backup", "--address", "127.0.0.4")
	for _, id := range []string{"p1", "p2", "b1"} {
		steerWaitState(t, s, svc, id, "up", 5*time.Second)
	}

	sec := startNamedSecondary(t, s.dnsAddr, tsigKeyConf{"xfr", "hmac-sha256", key.Secret}, false, "fn.example.com")
	nsd := startNSDSecondary(t, s.dnsAddr, tsigKeyConf{"xfr", "hmac-sha256", key.Secret}, "fn.example.com")
	s.mustCLI("zone", "update", "fn.example.com", "--notify", sec.addr+",key=xfr", "--notify", nsd.addr+",key=xfr")
	addrs := func(want ...string) func(*dns.Msg) bool {
		return func(r *dns.Msg) bool {
			var got []string
			for _, rr := range r.Answer {
				if a, ok := rr.(*dns.A); ok {
					got = append(got, a.A.String())
				}
			}
			return strings.Join(got, ",") == strings.Join(want, ",")
		}
	}
	// Both healthy primary endpoints: the secondaries get the whole tier.
	sec.waitAnswer(svc+".", dns.TypeA, 30*time.Second, addrs("127.0.0.2", "127.0.0.3"))
	nsd.waitAnswer(svc+".", dns.TypeA, 30*time.Second, addrs("127.0.0.2", "127.0.0.3"))
	before := soaSerial(t, sec.addr, "fn.example.com.")

	hs["127.0.0.2"].Stop()
	hs["127.0.0.3"].Stop()
	start := time.Now()
	r := sec.waitAnswer(svc+".", dns.TypeA, 15*time.Second, addrs("127.0.0.4"))
	t.Logf("failover on the BIND secondary %v after the endpoints stopped", time.Since(start).Round(time.Millisecond))
	nsd.waitAnswer(svc+".", dns.TypeA, 15*time.Second, addrs("127.0.0.4"))
	t.Logf("failover on the NSD secondary %v after the endpoints stopped", time.Since(start).Round(time.Millisecond))
	if ttl := r.Answer[0].Header().Ttl; ttl != 5 {
		t.Errorf("failover answer TTL %d, want the degraded TTL 5", ttl)
	}

	hs["127.0.0.2"].Start()
	hs["127.0.0.3"].Start()
	sec.waitAnswer(svc+".", dns.TypeA, 15*time.Second, addrs("127.0.0.2", "127.0.0.3"))
	nsd.waitAnswer(svc+".", dns.TypeA, 15*time.Second, addrs("127.0.0.2", "127.0.0.3"))

	// The changes are journaled as steering's, and the server has them as IXFR.
	var j apiv1.Journal
	if err := json.Unmarshal([]byte(s.mustCLI("zone", "journal", "fn.example.com", "--from", "1", "-o", "json")), &j); err != nil {
		t.Fatal(err)
	}
	if last := j.Entries[len(j.Entries)-1]; last.Actor != "steering" {
		t.Errorf("last journal entry by %q, want steering", last.Actor)
	}
	checkIncremental(t, s.dnsAddr, "fn.example.com.", before, soaSerial(t, s.dnsAddr, "fn.example.com."), tsigKeyConf{"xfr", "hmac-sha256", key.Secret})
	// The API's records are the zone's own: no steered answer among them.
	if out := s.mustCLI("record", "list", "fn.example.com"); strings.Contains(out, "127.0.0.") {
		t.Errorf("record list shows steered answers:\n%s", out)
	}
}
