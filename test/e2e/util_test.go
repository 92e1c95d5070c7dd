package e2e

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

// queryTXT returns the first string of the first TXT record at name.
func queryTXT(t *testing.T, addr, name string) string {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeTXT)
	r, err := exchange(m, addr)
	if err != nil {
		t.Fatalf("query %s: %v", name, err)
	}
	for _, rr := range r.Answer {
		if txt, ok := rr.(*dns.TXT); ok {
			return strings.Join(txt.Txt, "")
		}
	}
	return ""
}

var osStat = os.Stat

// waitFloor is the least time a wait on state gives before it fails the
// test. The limits the tests name are what the behaviour takes on an idle
// machine; on a loaded one (two cores shared by several builds, the race
// detector) it takes longer, and a wait that succeeds ends at once, so a
// generous floor costs a passing test nothing. How fast things happen is
// measured by the benchmarks (failover_bench_test.go), not asserted here.
const waitFloor = 30 * time.Second

// queryA returns the first address of the A records at name.
func queryA(t *testing.T, addr, name string) string {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeA)
	r, err := exchange(m, addr)
	if err != nil {
		t.Fatalf("query %s: %v", name, err)
	}
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok {
			return a.A.String()
		}
	}
	return ""
}

// runCmd runs an external command and returns its combined output.
func runCmd(name string, args ...string) ([]byte, error) {
	return exec.Command(name, args...).CombinedOutput()
}

// waitZone polls the zone's state (GET /v1/zones/{zone}) until ok holds,
// and returns it; it fails the test with the last state after within.
func (s *server) waitZone(zone, what string, within time.Duration, ok func(apiv1.Zone) bool) apiv1.Zone {
	s.t.Helper()
	deadline := time.Now().Add(within)
	var z apiv1.Zone
	for {
		status, body := s.api("GET", "/v1/zones/"+zone, "")
		if status == 200 {
			z = apiv1.Zone{}
			if err := json.Unmarshal([]byte(body), &z); err != nil {
				s.t.Fatalf("zone %s: %v\n%s", zone, err, body)
			}
			if ok(z) {
				return z
			}
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("zone %s: %s not within %v; last state: %d %s", zone, what, within, status, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// journal returns the zone's journal entries, oldest first.
func (s *server) journal(zone string) []apiv1.JournalEntry {
	s.t.Helper()
	status, body := s.api("GET", "/v1/zones/"+zone+"/journal?limit=10000", "")
	if status != 200 {
		s.t.Fatalf("journal of %s: %d %s", zone, status, body)
	}
	var j apiv1.Journal
	if err := json.Unmarshal([]byte(body), &j); err != nil {
		s.t.Fatal(err)
	}
	return j.Entries
}

// transfer asks addr for a transfer of zone over TCP: an AXFR, or an IXFR
// from serial when serial is not 0, signed with key (name and base64
// secret) when its name is set. It returns the records, or the error the
// transfer ended with.
func transfer(zone string, serial uint32, addr string, key tsigKeyConf) ([]dns.RR, error) {
	m := new(dns.Msg)
	if serial == 0 {
		m.SetAxfr(zone)
	} else {
		m.SetIxfr(zone, serial, ".", ".")
	}
	tr := &dns.Transfer{DialTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second}
	if key.name != "" {
		name := dns.Fqdn(key.name)
		tr.TsigSecret = map[string]string{name: key.secret}
		m.SetTsig(name, dns.Fqdn(key.algorithm), 300, time.Now().Unix())
	}
	ch, err := tr.In(m, addr)
	if err != nil {
		return nil, err
	}
	var rrs []dns.RR
	var firstErr error
	for env := range ch {
		if env.Error != nil && firstErr == nil {
			firstErr = env.Error
		}
		rrs = append(rrs, env.RR...)
	}
	return rrs, firstErr
}

// checkIncremental asks addr for an IXFR of zone from serial and fails
// the test unless the answer is incremental (RFC 1995: the new SOA, then
// difference sequences, each starting with an old SOA) and ends at want.
func checkIncremental(t *testing.T, addr, zone string, from, want uint32, key tsigKeyConf) {
	t.Helper()
	rrs, err := transfer(zone, from, addr, key)
	if err != nil {
		t.Fatalf("IXFR of %s from %d: %v", zone, from, err)
	}
	if len(rrs) < 3 {
		t.Fatalf("IXFR of %s from %d: %d records, want an incremental transfer:\n%v", zone, from, len(rrs), rrs)
	}
	first, ok1 := rrs[0].(*dns.SOA)
	second, ok2 := rrs[1].(*dns.SOA)
	if !ok1 || !ok2 || first.Serial != want || second.Serial != from {
		t.Errorf("IXFR of %s from %d: starts %v, %v; want the SOA at %d, then the one at %d", zone, from, rrs[0], rrs[1], want, from)
	}
}

// soaSerial returns the serial of zone's SOA as the server at addr
// answers it, failing the test when it answers no SOA.
func soaSerial(t *testing.T, addr, zone string) uint32 {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(zone, dns.TypeSOA)
	r, err := exchange(m, addr)
	if err != nil {
		t.Fatalf("SOA %s at %s: %v", zone, addr, err)
	}
	for _, rr := range r.Answer {
		if soa, ok := rr.(*dns.SOA); ok {
			return soa.Serial
		}
	}
	t.Fatalf("SOA %s at %s: no SOA in the answer:\n%v", zone, addr, r)
	return 0
}

// checkRefused asks addr for a transfer of zone signed with key (a wrong
// secret) and fails the test unless it is refused with NOTAUTH, nothing
// transferred.
func checkRefused(t *testing.T, addr, zone string, key tsigKeyConf) {
	t.Helper()
	rrs, err := transfer(zone, 0, addr, key)
	// dns.ErrAuth is the client's error for a NOTAUTH answer.
	if !errors.Is(err, dns.ErrAuth) || len(rrs) > 0 {
		t.Errorf("a transfer of %s with a wrong secret: %d records, err %v; want NOTAUTH and nothing", zone, len(rrs), err)
	}
}

// exchange sends m to addr over UDP and returns the answer, trying three
// times, five seconds each: a loaded machine can be slow to answer, and a
// datagram can be lost.
func exchange(m *dns.Msg, addr string) (*dns.Msg, error) {
	c := &dns.Client{Timeout: 5 * time.Second}
	var r *dns.Msg
	var err error
	for range 3 {
		if r, _, err = c.Exchange(m, addr); err == nil {
			return r, nil
		}
	}
	return nil, err
}
