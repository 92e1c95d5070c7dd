package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// TestSteerWeighted: two pools weighted 3:1 split 500 queries about 75/25;
// with sticky=true a client subnet (ECS, or the resolver's address without
// it) keeps its endpoint, and the answer carries the ECS scope the
// stickiness is keyed on (/24 for IPv4, /56 for IPv6).
func TestSteerWeighted(t *testing.T) {
	t.Parallel()
	s := steerStart(t, "", rrlExemptLoopback) // hundreds of queries back to back
	steerZone(t, s, "fn.example.com")
	for _, name := range []string{"w", "sticky"} {
		steerService(t, s, fmt.Sprintf(`{"name":"%s.fn.example.com","policy":"weighted","sticky":%v,"pools":[
			{"name":"heavy","weight":3},{"name":"light","weight":1}]}`, name, name == "sticky"))
		svc := name + ".fn.example.com"
		steerEndpoint(t, s, svc, "h1", `{"pool":"heavy","address":"127.0.0.8"}`)
		steerEndpoint(t, s, svc, "l1", `{"pool":"light","address":"127.0.0.9"}`)
	}

	const n = 500
	counts := map[string]int{}
	for range n {
		r := steerA(t, s, "w.fn.example.com")
		if len(r.Addrs) != 1 {
			t.Fatalf("weighted answer %s, want one address", r)
		}
		counts[r.Addrs[0]]++
	}
	heavy := float64(counts["127.0.0.8"]) / n
	t.Logf("weighted 3:1 over %d queries: %v (heavy %.1f%%)", n, counts, 100*heavy)
	if heavy < 0.67 || heavy > 0.83 || counts["127.0.0.8"]+counts["127.0.0.9"] != n {
		t.Errorf("weighted 3:1 split %v: heavy share %.3f, want 0.75 ± 0.08", counts, heavy)
	}

	// Sticky: every address of a /24 gets the /24's endpoint; different
	// /24s spread over both.
	const sticky = "sticky.fn.example.com"
	per := map[string]int{}
	for i := range 40 {
		first := ""
		for _, host := range []string{"0/24", "1/32", "77/32", "254/32", "128/25"} {
			r := steerQuery(t, s.dnsAddr, sticky, dns.TypeA, fmt.Sprintf("100.64.%d.%s", i, host))
			if len(r.Addrs) != 1 || r.Scope != 24 {
				t.Fatalf("sticky answer for 100.64.%d.%s: %s, want one address with ECS scope 24", i, host, r)
			}
			if first == "" {
				first = r.Addrs[0]
				per[first]++
			} else if r.Addrs[0] != first {
				t.Fatalf("sticky: 100.64.%d.%s got %s, but 100.64.%d.0/24 got %s", i, host, r.Addrs[0], i, first)
			}
		}
	}
	t.Logf("sticky: 40 subnets spread %v", per)
	if per["127.0.0.8"] == 0 || per["127.0.0.9"] == 0 {
		t.Errorf("sticky: 40 subnets all got one endpoint: %v", per)
	}
	// IPv6 subnets are keyed on /56.
	r1 := steerQuery(t, s.dnsAddr, sticky, dns.TypeA, "2001:db8:1:100::/56")
	r2 := steerQuery(t, s.dnsAddr, sticky, dns.TypeA, "2001:db8:1:1ff::/64")
	if r1.Scope != 56 || r2.Scope != 56 || r1.addrs() != r2.addrs() {
		t.Errorf("sticky IPv6: /56 -> %s, a /64 inside -> %s; want the same endpoint, scope 56", r1, r2)
	}
	// Without ECS the resolver's address is the key: always the same.
	want := steerA(t, s, sticky).addrs()
	for range 20 {
		if r := steerA(t, s, sticky); r.addrs() != want || r.Scope != -1 {
			t.Fatalf("sticky without ECS: %s then %s", want, r)
		}
	}
	// dig shows the scope.
	status, answer, ecs := steerDigParse(t, steerDig(t, s, "+subnet=198.51.100.0/24", sticky, "A"))
	if status != "NOERROR" || len(answer) != 1 || ecs != "198.51.100.0/24/24" {
		t.Errorf("dig +subnet=198.51.100.0/24: %s %q CLIENT-SUBNET %q, want one answer and 198.51.100.0/24/24", status, answer, ecs)
	}
}

// TestSteerMultivalue: max_answers 2 of 4 healthy endpoints (a fifth is
// forced down): every answer has 2 distinct healthy addresses, and the
// answers vary.
func TestSteerMultivalue(t *testing.T) {
	t.Parallel()
	const svc = "mv.fn.example.com"
	s := steerStart(t, "", rrlExemptLoopback) // hundreds of queries back to back
	steerZone(t, s, "fn.example.com")
	steerService(t, s, `{"name":"mv.fn.example.com","policy":"multivalue","max_answers":2,"pools":[{"name":"all"}]}`)
	healthy := map[string]bool{}
	for i := 10; i <= 13; i++ {
		addr := fmt.Sprintf("127.0.0.%d", i)
		healthy[addr] = true
		steerEndpoint(t, s, svc, fmt.Sprintf("m%d", i), fmt.Sprintf(`{"pool":"all","address":%q}`, addr))
	}
	steerEndpoint(t, s, svc, "m14", `{"pool":"all","address":"127.0.0.14"}`)
	steerMustCLI(t, s, "endpoint", "override", svc, "m14", "down", "--reason", "broken")

	sets := map[string]int{}
	seen := map[string]int{}
	for range 200 {
		r := steerA(t, s, svc)
		if len(r.Addrs) != 2 || r.Addrs[0] == r.Addrs[1] || !healthy[r.Addrs[0]] || !healthy[r.Addrs[1]] {
			t.Fatalf("multivalue answer %s: want 2 distinct addresses of 127.0.0.10-13", r)
		}
		sets[r.addrs()]++
		for _, a := range r.Addrs {
			seen[a]++
		}
	}
	t.Logf("multivalue: %d distinct answers over 200 queries: %v", len(sets), sets)
	if len(sets) < 4 || len(seen) != 4 {
		t.Errorf("multivalue answers do not vary: %v", sets)
	}
	status, answer, _ := steerDigParse(t, steerDig(t, s, svc, "A"))
	if status != "NOERROR" || len(answer) != 2 || strings.Contains(strings.Join(answer, " "), "127.0.0.14") {
		t.Errorf("dig: %s %q, want 2 records without the forced-down 127.0.0.14", status, answer)
	}
}
