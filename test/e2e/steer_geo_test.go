package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

// steerGeoConfig maps two client networks to regions.
const steerGeoConfig = `steering:
  locations:
    - {cidr: 10.1.0.0/16, region: eu-west, country: DE, continent: EU}
    - {cidr: 10.2.0.0/16, region: us-east, country: US, continent: NA}
`

// steerGeoSetup starts a server with the CIDR table and a geo service:
// pool us (us-east, priority 1, no check) and pool eu (eu-west, priority
// 2, HTTP-checked). It returns the server and the eu endpoint's server.
func steerGeoSetup(t *testing.T) (*server, *steerHTTP) {
	t.Helper()
	s := steerStart(t, "", steerGeoConfig)
	steerZone(t, s, "fn.example.com")
	eu := steerHTTPOn(t, "127.0.0.15", 0)
	steerService(t, s, fmt.Sprintf(`{"name":"geo.fn.example.com","policy":"geo","pools":[
		{"name":"us","region":"us-east","country":"US","continent":"NA","priority":1},
		{"name":"eu","region":"eu-west","country":"DE","continent":"EU","priority":2,
		 "check":{"type":"http","port":%d,"interval":"1s","fall":2,"rise":2}}]}`, eu.Port))
	steerEndpoint(t, s, "geo.fn.example.com", "u1", `{"pool":"us","address":"127.0.0.16"}`)
	steerEndpoint(t, s, "geo.fn.example.com", "e1", `{"pool":"eu","address":"127.0.0.15"}`)
	steerWaitState(t, s, "geo.fn.example.com", "e1", "up", 5*time.Second)
	return s, eu
}

// TestSteerGeoCIDR: with the locations table, an ECS subnet in 10.1/16
// goes to the EU pool and one in 10.2/16 to the US pool, each answer
// carrying the ECS scope of the table entry (/16), and a subnet only part
// of which is in the table the scope of its part (/16 for a /15); without
// ECS the resolver (127.0.0.1, not in the table) gets the priority order;
// when the nearest pool is down its clients fail over to the other. While every
// endpoint is up, each answer has the service TTL (30), the EU pool's too
// although its priority is 2; the failover answer has the degraded TTL
// (10).
func TestSteerGeoCIDR(t *testing.T) {
	t.Parallel()
	const svc = "geo.fn.example.com"
	s, eu := steerGeoSetup(t)

	for _, c := range []struct{ subnet, addr, ecs string }{
		{"10.1.0.0/24", "127.0.0.15", "10.1.0.0/24/16"},
		{"10.2.0.0/24", "127.0.0.16", "10.2.0.0/24/16"},
		{"10.1.200.7/32", "127.0.0.15", "10.1.200.7/32/16"},
		// 10.0.0.0/15 is half unknown (10.0/16), half EU (10.1/16): the
		// unknown answer is scoped to 10.0.0.0/16, longer than the subnet.
		{"10.0.0.0/15", "127.0.0.16", "10.0.0.0/15/16"},
	} {
		status, answer, ecs := steerDigParse(t, steerDig(t, s, "+subnet="+c.subnet, svc, "A"))
		if status != "NOERROR" || len(answer) != 1 || answer[0] != svc+". 30 IN A "+c.addr || ecs != c.ecs {
			t.Errorf("dig +subnet=%s: %s %q CLIENT-SUBNET %q; want A %s (TTL 30) and CLIENT-SUBNET %s", c.subnet, status, answer, ecs, c.addr, c.ecs)
		}
	}
	// Without ECS: 127.0.0.1 is unknown, the priority order decides, and
	// the response has no ECS option.
	out := steerDig(t, s, svc, "A")
	if status, answer, ecs := steerDigParse(t, out); status != "NOERROR" || len(answer) != 1 || !strings.HasSuffix(answer[0], "IN A 127.0.0.16") || ecs != "" {
		t.Errorf("dig without +subnet: %s %q CLIENT-SUBNET %q; want A 127.0.0.16 and no ECS\n%s", status, answer, ecs, out)
	}
	x := steerExplain(t, s, svc, "client=192.0.2.1&subnet=10.1.0.0/24")
	if !x.Location.Known || x.Location.Region != "eu-west" || x.Location.Network != "10.1.0.0/16" || x.Scope != 16 ||
		strings.Join(x.Answer, ",") != "A 127.0.0.15" {
		t.Errorf("explain 10.1.0.0/24: location %+v scope %d answer %q", x.Location, x.Scope, x.Answer)
	}
	if !steerRemoved(x, "geo", "u1", "farther") {
		t.Errorf("explain 10.1.0.0/24: the geo step does not remove u1 as farther: %+v", x.Steps)
	}

	// The EU pool goes down: EU clients fail over to the US pool.
	eu.Stop()
	steerWait(t, 5*time.Second, "EU client fails over to the US pool", func() (bool, string) {
		r := steerQuery(t, s.dnsAddr, svc, dns.TypeA, "10.1.0.0/24")
		return r.addrs() == "127.0.0.16" && r.Scope == 16, r.String()
	})
	status, answer, _ := steerDigParse(t, steerDig(t, s, "+subnet=10.1.0.0/24", svc, "A"))
	if status != "NOERROR" || len(answer) != 1 || answer[0] != svc+". 10 IN A 127.0.0.16" {
		t.Errorf("dig +subnet=10.1.0.0/24 while the EU pool is down: %s %q, want A 127.0.0.16 with the degraded TTL 10", status, answer)
	}
	x = steerExplain(t, s, svc, "subnet=10.1.0.0/24")
	if !steerRemoved(x, "health", "e1", "connection refused") {
		t.Errorf("explain while eu is down: health step %+v", x.Steps)
	}
	// And back.
	eu.Start()
	steerWait(t, 6*time.Second, "EU client back on the EU pool", func() (bool, string) {
		r := steerQuery(t, s.dnsAddr, svc, dns.TypeA, "10.1.0.0/24")
		return r.addrs() == "127.0.0.15", r.String()
	})
}

// TestSteerRegressionGeoUnknownClientScopeZero once showed that a geo answer for a
// client subnet the tables do not know carries ECS scope 0. Scope 0 tells
// a resolver the answer is good for every client (RFC 7871 section 7.3.1),
// so a resolver that first asks for an unknown subnet caches the
// priority-order (US) answer and serves it to its EU clients too,
// although those get the EU pool from Stratus. The scope should be the
// prefix of the unknown network (geo.Location.Prefix, which the locator
// computes for exactly this purpose), never 0.
func TestSteerRegressionGeoUnknownClientScopeZero(t *testing.T) {
	t.Parallel()
	s, _ := steerGeoSetup(t)
	eu := steerQuery(t, s.dnsAddr, "geo.fn.example.com", dns.TypeA, "10.1.0.0/24")
	if eu.addrs() != "127.0.0.15" {
		t.Fatalf("EU client: %s", eu)
	}
	status, answer, ecs := steerDigParse(t, steerDig(t, s, "+subnet=192.0.2.0/24", "geo.fn.example.com", "A"))
	t.Logf("dig +subnet=192.0.2.0/24 geo.fn.example.com: %s %q CLIENT-SUBNET %s", status, answer, ecs)
	if ecs == "192.0.2.0/24/0" {
		t.Errorf("an unknown client subnet gets ECS scope 0 (CLIENT-SUBNET: %s) for an answer (%q) that differs from what 10.1.0.0/24 gets (%s): "+
			"a resolver may serve it to every client", ecs, answer, eu.addrs())
	}
}

// steerRemoved reports whether the explanation's step filter removed the
// endpoint with a reason containing why.
func steerRemoved(x apiv1.Explanation, filter, endpoint, why string) bool {
	for _, st := range x.Steps {
		if st.Filter != filter {
			continue
		}
		for _, r := range st.Removed {
			if r.Endpoint == endpoint && strings.Contains(r.Reason, why) {
				return true
			}
		}
	}
	return false
}
