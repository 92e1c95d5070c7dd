package querylog

import (
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestExtendedRcodeLogged: a response whose rcode needs the OPT
// record's upper bits (BADVERS to an EDNS version 1 query) is logged by
// its rcode, not by the header's lower four bits (NOERROR).
func TestExtendedRcodeLogged(t *testing.T) {
	s, _, path, stop := logServer(t, Options{}, 0)
	m := new(dns.Msg)
	m.SetQuestion("www.example.com.", dns.TypeA)
	m.SetEdns0(1232, false)
	m.IsEdns0().SetVersion(1)
	c := &dns.Client{Timeout: 5 * time.Second}
	r, _, err := c.Exchange(m, s.Addrs()[0].String())
	if err != nil {
		t.Fatal(err)
	}
	if r.Rcode != dns.RcodeBadVers {
		t.Fatalf("server answered %s, want BADVERS", dns.RcodeToString[r.Rcode])
	}
	stop()
	lines := readLines(t, path)
	if len(lines) != 1 || lines[0]["rcode"] != "BADVERS" {
		t.Errorf("logged %v, want one line with rcode BADVERS", lines)
	}
}
