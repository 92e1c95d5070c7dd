package e2e

import (
	"encoding/json"
	"strings"
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

	sec := startNamedSecondary(t, s.dnsAddr, tsigKeyConf{"xfr.test", "hmac-sha256", key.Secret}, "xfr.test")
	sec.waitAnswer("www.xfr.test.", dns.TypeA, 20*time.Second, hasA("192.0.2.1"))
	if !strings.Contains(s.logs.String(), `type=AXFR`) {
		t.Errorf("no full transfer logged:\n%s", s.logs.String())
	}

	// Changes reach the secondary as IXFR.
	s.mustCLI("record", "set", "xfr.test", "www", "A", "192.0.2.2")
	s.mustCLI("record", "add", "xfr.test", "new", "A", "192.0.2.3")
	sec.waitAnswer("new.xfr.test.", dns.TypeA, 20*time.Second, hasA("192.0.2.3"))
	sec.waitAnswer("www.xfr.test.", dns.TypeA, 5*time.Second, func(r *dns.Msg) bool { return hasA("192.0.2.2")(r) && len(r.Answer) == 1 })
	if !strings.Contains(s.logs.String(), `type=IXFR incremental=true`) {
		t.Errorf("no incremental transfer logged:\n%s", s.logs.String())
	}
	if !strings.Contains(sec.logs.String(), "Transfer status: success") {
		t.Errorf("named logged no successful transfer:\n%s", sec.logs.String())
	}

	// The wrong secret: BADSIG, nothing transferred.
	bad := startNamedSecondary(t, s.dnsAddr, tsigKeyConf{"xfr.test", "hmac-sha256", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}, "xfr.test")
	time.Sleep(2 * time.Second)
	m := new(dns.Msg)
	m.SetQuestion("www.xfr.test.", dns.TypeA)
	if r, _, err := (&dns.Client{Timeout: time.Second}).Exchange(m, bad.addr); err == nil && len(r.Answer) > 0 {
		t.Errorf("a secondary with the wrong secret answers: %v", r)
	}
	if !strings.Contains(s.logs.String(), "tsig verification failed") {
		t.Errorf("no TSIG failure logged:\n%s", s.logs.String())
	}
}
