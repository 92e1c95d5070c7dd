package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stratusdns/stratus/pkg/apiv1"
)

// TestSteerExplain: `stratus service explain SVC --client X --subnet Y`
// (and GET /v1/services/SVC/evaluate) name every filter of the chain and
// each endpoint it removed, with the reason, and give the answer a query
// from that client gets, with its TTL and ECS scope. Bad query parameters
// get a 400 naming the parameter (exit code 2 from the CLI).
func TestSteerExplain(t *testing.T) {
	t.Parallel()
	const svc = "x.fn.example.com"
	s := steerStart(t, "", steerGeoConfig)
	steerZone(t, s, "fn.example.com")
	steerService(t, s, `{"name":"x.fn.example.com","policy":"geo","jurisdictions":["eu"],"pools":[
		{"name":"eu-west","region":"eu-west","jurisdiction":"eu","priority":1},
		{"name":"eu-central","region":"eu-central","jurisdiction":"eu","priority":2},
		{"name":"us","region":"us-east","jurisdiction":"us","priority":0}]}`)
	steerEndpoint(t, s, svc, "e1", `{"pool":"eu-west","address":"127.0.0.2"}`)
	steerEndpoint(t, s, svc, "e2", `{"pool":"eu-west","address":"127.0.0.3"}`)
	steerEndpoint(t, s, svc, "c1", `{"pool":"eu-central","address":"127.0.0.4"}`)
	steerEndpoint(t, s, svc, "u1", `{"pool":"us","address":"127.0.0.5"}`)
	steerMustCLI(t, s, "endpoint", "override", svc, "e2", "down", "--reason", "bad deploy")

	out := steerMustCLI(t, s, "service", "explain", svc, "--client", "192.0.2.1", "--subnet", "10.1.0.0/24", "-o", "json")
	var x apiv1.Explanation
	if err := json.Unmarshal([]byte(out), &x); err != nil {
		t.Fatalf("explain -o json: %v\n%s", err, out)
	}
	var filters []string
	for _, st := range x.Steps {
		filters = append(filters, st.Filter)
	}
	if strings.Join(filters, ",") != "jurisdiction,health,geo,priority,first_n:8" {
		t.Errorf("explain steps %q, want jurisdiction,health,geo,priority,first_n:8", filters)
	}
	for _, c := range []struct{ filter, endpoint, why string }{
		{"jurisdiction", "u1", `pool us is in jurisdiction "us", not one of eu`},
		{"health", "e2", "forced down by admin"},
		{"geo", "c1", "pool eu-central is farther from the client than the nearest available pool"},
	} {
		if !steerRemoved(x, c.filter, c.endpoint, c.why) {
			t.Errorf("explain: %s does not remove %s with %q: %+v", c.filter, c.endpoint, c.why, x.Steps)
		}
	}
	if x.Client != "192.0.2.1" || x.Subnet != "10.1.0.0/24" || x.QType != "A" || x.Rcode != "NOERROR" ||
		strings.Join(x.Answer, ",") != "A 127.0.0.2" || x.Scope != 16 || x.TTL != 10 || x.Location.Region != "eu-west" || len(x.Pools) != 3 {
		t.Errorf("explain: %s", out)
	}
	// The same answer as a query from that subnet.
	if r := steerQuery(t, s.dnsAddr, svc, 1, "10.1.0.0/24"); r.addrs() != "127.0.0.2" || r.Scope != 16 || r.TTL != 10 {
		t.Errorf("query from 10.1.0.0/24: %s, explain said A 127.0.0.2 (ttl 10, scope 16)", r)
	}

	// The table form.
	out = steerMustCLI(t, s, "service", "explain", svc, "--client", "192.0.2.1", "--subnet", "10.2.0.0/24")
	for _, want := range []string{
		"client   192.0.2.1 (subnet 10.2.0.0/24)",
		"location us-east",
		"- u1 (pool us): pool us is in jurisdiction \"us\", not one of eu",
		"- e2 (pool eu-west): forced down by admin",
		"- c1 (pool eu-central): priority 2 is behind the available tier 1",
		"answer   NOERROR A 127.0.0.2 (ttl 10, ecs scope 16)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("service explain output lacks %q:\n%s", want, out)
		}
	}

	// Bad parameters: 400 naming the field.
	for _, c := range []struct{ query, field, msg string }{
		{"client=banana", "client", "banana"},
		{"client=192.0.2.1&subnet=10.1.0.0", "subnet", "10.1.0.0"},
		{"type=MX", "type", "MX"},
		{"type=BOGUS", "type", "BOGUS"},
		{"colour=red", "colour", "unknown query parameter"},
	} {
		st, body := s.api("GET", "/v1/services/"+svc+"/evaluate?"+c.query, "")
		e := steerAPIError(t, body)
		if st != http.StatusBadRequest || e.Field != c.field || !strings.Contains(e.Message, c.msg) {
			t.Errorf("evaluate?%s: %d %s, want 400 naming %q", c.query, st, body, c.field)
		}
	}
	if st, body := s.api("GET", "/v1/services/nosuch.fn.example.com/evaluate", ""); st != http.StatusNotFound {
		t.Errorf("evaluate of an unknown service: %d %s", st, body)
	}
	if msg := steerCLIFail(t, s, 2, "service", "explain", svc, "--client", "banana"); !strings.Contains(msg, "client") {
		t.Errorf("explain --client banana: %q", msg)
	}
	if msg := steerCLIFail(t, s, 2, "service", "explain", svc, "--type", "MX"); !strings.Contains(msg, "type") {
		t.Errorf("explain --type MX: %q", msg)
	}
	steerCLIFail(t, s, 3, "service", "explain", "nosuch.fn.example.com")
}
