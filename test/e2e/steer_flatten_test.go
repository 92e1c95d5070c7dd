package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestSteerFlatten: a service at a zone apex must flatten (creating one
// without is refused naming flatten); with flatten, a hostname endpoint is
// answered as the hostname's A and AAAA records, resolved through
// steering.flatten_resolver, here Stratus itself (a second DNS listener),
// which serves the hostname from another zone: no outside DNS is
// involved. A service that does not flatten answers a hostname endpoint
// with a CNAME, chased when the target is in one of our zones.
func TestSteerFlatten(t *testing.T) {
	t.Parallel()
	self := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	s := steerStart(t, "", "steering:\n  flatten_resolver: "+self+"\n", "--dns-listen", self)
	steerZone(t, s, "fn.example.com")
	steerZone(t, s, "origin.test")
	steerMustCLI(t, s, "record", "add", "origin.test", "fn1", "A", "192.0.2.21", "192.0.2.22")
	steerMustCLI(t, s, "record", "add", "origin.test", "fn1", "AAAA", "2001:db8::21")

	// At the apex: flatten is required.
	apex := steerWrite(t, "apex.yaml", "name: fn.example.com\npools: [{name: fn}]\n")
	if msg := steerCLIFail(t, s, 2, "service", "create", "-f", apex); !strings.Contains(msg, "flatten") {
		t.Errorf("apex service without flatten: %q, want a message naming flatten", msg)
	}
	apex = steerWrite(t, "apex.yaml", "name: fn.example.com\nflatten: true\npools: [{name: fn}]\n")
	steerMustCLI(t, s, "service", "create", "-f", apex)
	steerMustCLI(t, s, "endpoint", "register", "fn.example.com", "f1", "--pool", "fn", "--address", "fn1.origin.test")

	steerWait(t, 5*time.Second, "the apex flattened", func() (bool, string) {
		r := steerA(t, s, "fn.example.com")
		return r.addrs() == "192.0.2.21,192.0.2.22", r.String()
	})
	status, answer, _ := steerDigParse(t, steerDig(t, s, "fn.example.com", "A"))
	if status != "NOERROR" || len(answer) != 2 || !strings.Contains(answer[0], "IN A 192.0.2.2") {
		t.Errorf("dig A at the apex: %s %q", status, answer)
	}
	if r := steerQuery(t, s.dnsAddr, "fn.example.com", dns.TypeAAAA, ""); r.addrs() != "2001:db8::21" || len(r.CNAMEs) != 0 {
		t.Errorf("AAAA at the apex: %s", r)
	}
	// The apex keeps its SOA and NS.
	if r := steerQuery(t, s.dnsAddr, "fn.example.com", dns.TypeSOA, ""); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
		t.Errorf("SOA at the apex: %s", r)
	}
	if r := steerQuery(t, s.dnsAddr, "fn.example.com", dns.TypeNS, ""); len(r.Answer) != 1 {
		t.Errorf("NS at the apex: %s", r)
	}
	if x := steerExplain(t, s, "fn.example.com", "type=AAAA"); strings.Join(x.Answer, ",") != "AAAA 2001:db8::21" {
		t.Errorf("explain AAAA at the apex: %q", x.Answer)
	}

	// Without flatten: a CNAME, chased into origin.test.
	steerService(t, s, `{"name":"www.fn.example.com","pools":[{"name":"fn"}]}`)
	steerEndpoint(t, s, "www.fn.example.com", "f1", `{"pool":"fn","address":"fn1.origin.test"}`)
	status, answer, _ = steerDigParse(t, steerDig(t, s, "www.fn.example.com", "A"))
	want := []string{
		"www.fn.example.com. 30 IN CNAME fn1.origin.test.",
		"fn1.origin.test. 3600 IN A 192.0.2.21",
		"fn1.origin.test. 3600 IN A 192.0.2.22",
	}
	if status != "NOERROR" || strings.Join(answer, "\n") != strings.Join(want, "\n") {
		t.Errorf("dig www A: %s\n%s\nwant\n%s", status, strings.Join(answer, "\n"), strings.Join(want, "\n"))
	}
	if r := steerQuery(t, s.dnsAddr, "www.fn.example.com", dns.TypeCNAME, ""); len(r.Answer) != 1 || strings.Join(r.CNAMEs, "") != "fn1.origin.test." {
		t.Errorf("CNAME query: %s", r)
	}
	// A target outside our zones: the CNAME alone, for the resolver to
	// follow.
	steerService(t, s, `{"name":"ext.fn.example.com","pools":[{"name":"fn"}]}`)
	steerEndpoint(t, s, "ext.fn.example.com", "l1", `{"pool":"fn","address":"abc.lambda-url.eu-west-1.on.aws"}`)
	if r := steerA(t, s, "ext.fn.example.com"); r.Rcode != dns.RcodeSuccess || !r.AA || len(r.Answer) != 1 || strings.Join(r.CNAMEs, "") != "abc.lambda-url.eu-west-1.on.aws." {
		t.Errorf("CNAME out of our zones: %s", r)
	}
}
