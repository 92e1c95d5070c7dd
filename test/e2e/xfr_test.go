package e2e

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

func hasA(want string) func(*dns.Msg) bool {
	return func(r *dns.Msg) bool {
		for _, rr := range r.Answer {
			if a, ok := rr.(*dns.A); ok && a.A.String() == want {
				return true
			}
		}
		return false
	}
}

// TestTransferToBIND makes BIND named a secondary of Stratus: a full
// transfer signed with TSIG, then incremental ones from the journal as the
// zone changes; a secondary with the wrong secret gets nothing.
func TestTransferToBIND(t *testing.T) {
	s := startServer(t, "")
	var key apiv1.CreatedTSIGKey
	if err := json.Unmarshal([]byte(s.mustCLI("tsig", "create", "xfr.test", "-o", "json")), &key); err != nil {
		t.Fatal(err)
	}
	s.mustCLI("zone", "create", "xfr.test", "--ns", "ns1.xfr.test", "--allow-transfer", "key=xfr.test")
	s.mustCLI("record", "add", "xfr.test", "ns1", "A", "192.0.2.53")
	s.mustCLI("record", "add", "xfr.test", "www", "A", "192.0.2.1")

	tsig := tsigKeyConf{"xfr.test", "hmac-sha256", key.Secret}
	sec := startNamedSecondary(t, s.dnsAddr, tsig, true, "xfr.test")
	sec.waitAnswer("www.xfr.test.", dns.TypeA, 30*time.Second, hasA("192.0.2.1"))
	before := soaSerial(t, sec.addr, "xfr.test.")

	// Changes reach the secondary, and the server has them as IXFR.
	s.mustCLI("record", "set", "xfr.test", "www", "A", "192.0.2.2")
	s.mustCLI("record", "add", "xfr.test", "new", "A", "192.0.2.3")
	sec.waitAnswer("new.xfr.test.", dns.TypeA, 30*time.Second, hasA("192.0.2.3"))
	sec.waitAnswer("www.xfr.test.", dns.TypeA, 30*time.Second, func(r *dns.Msg) bool { return hasA("192.0.2.2")(r) && len(r.Answer) == 1 })
	checkIncremental(t, s.dnsAddr, "xfr.test.", before, soaSerial(t, s.dnsAddr, "xfr.test."), tsig)

	// The wrong secret: BADSIG, nothing transferred.
	wrong := tsigKeyConf{"xfr.test", "hmac-sha256", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}
	checkRefused(t, s.dnsAddr, "xfr.test.", wrong)
	bad := startNamedSecondary(t, s.dnsAddr, wrong, true, "xfr.test")
	m := new(dns.Msg)
	m.SetQuestion("www.xfr.test.", dns.TypeA)
	if r, _, err := (&dns.Client{Timeout: time.Second}).Exchange(m, bad.addr); err == nil && len(r.Answer) > 0 {
		t.Errorf("a secondary with the wrong secret answers: %v", r)
	}
}

// TestNotifyBIND: a BIND secondary that never polls learns of every change
// through Stratus's signed NOTIFY (its refresh is hours), and the server
// has the changes as IXFR.
func TestNotifyBIND(t *testing.T) {
	s := startServer(t, "")
	var key apiv1.CreatedTSIGKey
	if err := json.Unmarshal([]byte(s.mustCLI("tsig", "create", "xfr.test", "-o", "json")), &key); err != nil {
		t.Fatal(err)
	}
	s.mustCLI("zone", "create", "notify.test", "--ns", "ns1.notify.test", "--allow-transfer", "key=xfr.test")
	s.mustCLI("record", "add", "notify.test", "www", "A", "192.0.2.1")

	tsig := tsigKeyConf{"xfr.test", "hmac-sha256", key.Secret}
	sec := startNamedSecondary(t, s.dnsAddr, tsig, false, "notify.test")
	sec.waitAnswer("www.notify.test.", dns.TypeA, 30*time.Second, hasA("192.0.2.1")) // the initial transfer
	before := soaSerial(t, sec.addr, "notify.test.")

	s.mustCLI("zone", "update", "notify.test", "--notify", sec.addr+",key=xfr.test")
	for i := 2; i <= 4; i++ {
		addr := fmt.Sprintf("192.0.2.%d", i)
		start := time.Now()
		s.mustCLI("record", "set", "notify.test", "www", "A", addr)
		sec.waitAnswer("www.notify.test.", dns.TypeA, 30*time.Second, hasA(addr))
		t.Logf("change %d on the BIND secondary after %v", i, time.Since(start).Round(time.Millisecond))
	}
	checkIncremental(t, s.dnsAddr, "notify.test.", before, soaSerial(t, s.dnsAddr, "notify.test."), tsig)
}
