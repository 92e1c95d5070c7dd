package e2e

import (
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// TestSteerLatency: the latency policy answers, per client region, the
// pool with the lowest latency in the config's latency table, and the next
// lowest when that pool is drained; the answer carries the ECS scope of
// the client's table entry.
func TestSteerLatency(t *testing.T) {
	t.Parallel()
	const svc = "fast.fn.example.com"
	s := steerStart(t, "", `steering:
  locations:
    - {cidr: 10.1.0.0/16, region: eu-west}
    - {cidr: 10.2.0.0/16, region: us-east}
    - {cidr: 10.3.0.0/16, region: ap-south}
  latency:
    eu-west:  {eu-west: 12, us-east: 80, ap-south: 140}
    us-east:  {eu-west: 85, us-east: 6, ap-south: 210}
    ap-south: {eu-west: 120, us-east: 200, ap-south: 15}
`)
	steerZone(t, s, "fn.example.com")
	steerService(t, s, `{"name":"fast.fn.example.com","policy":"latency","pools":[
		{"name":"ap","region":"ap-south"},{"name":"eu","region":"eu-west"},{"name":"us","region":"us-east"}]}`)
	steerEndpoint(t, s, svc, "ap1", `{"pool":"ap","address":"127.0.0.10"}`)
	steerEndpoint(t, s, svc, "eu1", `{"pool":"eu","address":"127.0.0.11"}`)
	steerEndpoint(t, s, svc, "us1", `{"pool":"us","address":"127.0.0.12"}`)

	check := func(when string, want map[string]string) {
		t.Helper()
		for subnet, addr := range want {
			r := steerQuery(t, s.dnsAddr, svc, dns.TypeA, subnet)
			if r.addrs() != addr || r.Scope != 16 {
				t.Errorf("%s: client %s got %s, want %s with ECS scope 16", when, subnet, r, addr)
			}
		}
	}
	check("all pools up", map[string]string{"10.1.0.0/24": "127.0.0.11", "10.2.0.0/24": "127.0.0.12", "10.3.0.0/24": "127.0.0.10"})
	x := steerExplain(t, s, svc, "subnet=10.1.0.0/24")
	if !steerRemoved(x, "latency", "us1", "higher latency") || !steerRemoved(x, "latency", "ap1", "higher latency") {
		t.Errorf("explain 10.1.0.0/24: latency step %+v", x.Steps)
	}

	// Drain eu: eu-west clients get the next lowest latency (us-east, 80
	// ms, before ap-south, 140 ms); ap-south clients eu's replacement too.
	steerMustCLI(t, s, "pool", "drain", svc, "eu", "--reason", "maintenance")
	check("eu drained", map[string]string{"10.1.0.0/24": "127.0.0.12", "10.2.0.0/24": "127.0.0.12", "10.3.0.0/24": "127.0.0.10"})
	steerMustCLI(t, s, "pool", "drain", svc, "ap")
	check("eu and ap drained", map[string]string{"10.3.0.0/24": "127.0.0.12"})
	steerMustCLI(t, s, "pool", "undrain", svc, "eu")
	steerMustCLI(t, s, "pool", "undrain", svc, "ap")
	check("undrained", map[string]string{"10.1.0.0/24": "127.0.0.11", "10.3.0.0/24": "127.0.0.10"})

	// A client whose region has no row (here: unknown) is not steered by
	// the table: every pool stays (no RTT measured with check none).
	status, answer, _ := steerDigParse(t, steerDig(t, s, svc, "A"))
	if status != "NOERROR" || len(answer) != 3 || !strings.Contains(strings.Join(answer, " "), "127.0.0.11") {
		t.Errorf("unknown client: %s %q, want all three pools", status, answer)
	}
}
