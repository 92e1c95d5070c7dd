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

	sec := startNamedSecondary(t, s.dnsAddr, tsigKeyConf{"xfr.test", "hmac-sha256", key.Secret}, true, "xfr.test")
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
	bad := startNamedSecondary(t, s.dnsAddr, tsigKeyConf{"xfr.test", "hmac-sha256", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}, true, "xfr.test")
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

// TestNotifyBIND: a BIND secondary that never polls learns of every change
// through Stratus's signed NOTIFY, and the change arrives as IXFR.
func TestNotifyBIND(t *testing.T) {
	s := startServer(t, "")
	var key apiv1.CreatedTSIGKey
	if err := json.Unmarshal([]byte(s.mustCLI("tsig", "create", "xfr.test", "-o", "json")), &key); err != nil {
		t.Fatal(err)
	}
	s.mustCLI("zone", "create", "notify.test", "--ns", "ns1.notify.test", "--allow-transfer", "key=xfr.test")
	s.mustCLI("record", "add", "notify.test", "www", "A", "192.0.2.1")

	sec := startNamedSecondary(t, s.dnsAddr, tsigKeyConf{"xfr.test", "hmac-sha256", key.Secret}, false, "notify.test")
	sec.waitAnswer("www.notify.test.", dns.TypeA, 20*time.Second, hasA("192.0.2.1")) // the initial transfer

	s.mustCLI("zone", "update", "notify.test", "--notify", sec.addr+",key=xfr.test")
	for i := 2; i <= 4; i++ {
		addr := fmt.Sprintf("192.0.2.%d", i)
		start := time.Now()
		s.mustCLI("record", "set", "notify.test", "www", "A", addr)
		sec.waitAnswer("www.notify.test.", dns.TypeA, 10*time.Second, hasA(addr))
		t.Logf("change %d on the BIND secondary after %v", i, time.Since(start).Round(time.Millisecond))
	}
	if !strings.Contains(s.logs.String(), "notify acknowledged") || !strings.Contains(s.logs.String(), "type=IXFR incremental=true") {
		t.Errorf("no acknowledged NOTIFY or IXFR logged:\n%s", s.logs.String())
	}
	if !strings.Contains(sec.logs.String(), "received notify for zone 'notify.test'") {
		t.Errorf("named logged no NOTIFY:\n%s", sec.logs.String())
	}
}
