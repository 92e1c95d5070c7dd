package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestSteerAllDown: what each when_all_down mode answers once every
// endpoint is down (HTTP checks against a port nobody listens on): the
// default fail_open answers the down endpoints, fallback the fallback
// pool, static its addresses (or a hostname, as a CNAME), nodata NOERROR
// with no records (the SOA in authority), servfail SERVFAIL. Answers made
// while everything is down carry the degraded TTL.
func TestSteerAllDown(t *testing.T) {
	t.Parallel()
	s := steerStart(t, "", "")
	steerZone(t, s, "fn.example.com")
	dead := steerUnused(t, "127.0.0.20")
	check := fmt.Sprintf(`{"type":"http","port":%d,"interval":"1s","fall":1,"rise":1}`, dead)
	modes := map[string]string{
		"failopen": ``,
		"fallback": `"when_all_down":{"mode":"fallback","pool":"spare"},`,
		"static":   `"when_all_down":{"mode":"static","static":["192.0.2.10","192.0.2.11","2001:db8::10"]},`,
		"statich":  `"when_all_down":{"mode":"static","static":["sorry.example.net"]},`,
		"nodata":   `"when_all_down":{"mode":"nodata"},`,
		"servfail": `"when_all_down":{"mode":"servfail"},`,
	}
	for name, mode := range modes {
		svc := name + ".fn.example.com"
		steerService(t, s, fmt.Sprintf(`{"name":%q,"ttl":60,%s"pools":[
			{"name":"main","priority":1,"check":%s},
			{"name":"spare","priority":2,"check":%s}]}`, svc, mode, check, check))
		steerEndpoint(t, s, svc, "m1", `{"pool":"main","address":"127.0.0.20"}`)
		steerEndpoint(t, s, svc, "m2", `{"pool":"main","address":"127.0.0.19"}`)
		steerEndpoint(t, s, svc, "s1", `{"pool":"spare","address":"127.0.0.18"}`)
	}
	for name := range modes {
		svc := name + ".fn.example.com"
		for _, id := range []string{"m1", "m2", "s1"} {
			steerWaitState(t, s, svc, id, "down", 5*time.Second)
		}
	}

	cases := []struct {
		name, qtype, rcode string
		answer             []string
	}{
		{"failopen", "A", "NOERROR", []string{"failopen.fn.example.com. 10 IN A 127.0.0.19", "failopen.fn.example.com. 10 IN A 127.0.0.20"}},
		{"fallback", "A", "NOERROR", []string{"fallback.fn.example.com. 10 IN A 127.0.0.18"}},
		{"static", "A", "NOERROR", []string{"static.fn.example.com. 10 IN A 192.0.2.10", "static.fn.example.com. 10 IN A 192.0.2.11"}},
		{"static", "AAAA", "NOERROR", []string{"static.fn.example.com. 10 IN AAAA 2001:db8::10"}},
		{"statich", "A", "NOERROR", []string{"statich.fn.example.com. 10 IN CNAME sorry.example.net."}},
		{"nodata", "A", "NOERROR", nil},
		{"servfail", "A", "SERVFAIL", nil},
	}
	for _, c := range cases {
		svc := c.name + ".fn.example.com"
		out := steerDig(t, s, svc, c.qtype)
		status, answer, _ := steerDigParse(t, out)
		got := append([]string(nil), answer...)
		slices.Sort(got)
		if status != c.rcode || strings.Join(got, "\n") != strings.Join(c.answer, "\n") {
			t.Errorf("%s %s: dig %s %q, want %s %q\n%s", svc, c.qtype, status, got, c.rcode, c.answer, out)
		}
	}
	if r := steerA(t, s, "nodata.fn.example.com"); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 0 || strings.Join(r.NS, ",") != "SOA" || !r.AA {
		t.Errorf("nodata: %s authority %v, want an authoritative NOERROR with the SOA in authority", r, r.NS)
	}
	x := steerExplain(t, s, "fallback.fn.example.com", "")
	if !strings.Contains(x.AllDown, "fallback pool spare") {
		t.Errorf("explain fallback: all_down %q", x.AllDown)
	}
	x = steerExplain(t, s, "servfail.fn.example.com", "")
	if x.Rcode != "SERVFAIL" || !strings.Contains(x.AllDown, "SERVFAIL") {
		t.Errorf("explain servfail: rcode %q all_down %q", x.Rcode, x.AllDown)
	}
	// The default is fail_open, and it is shown.
	var got struct {
		WhenAllDown struct{ Mode string } `json:"when_all_down"`
	}
	steerGetJSON(t, s, "/v1/services/failopen.fn.example.com", &got)
	if got.WhenAllDown.Mode != "fail_open" {
		t.Errorf("default when_all_down: %q, want fail_open", got.WhenAllDown.Mode)
	}
}
