package steer

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/model"
)

// materialized renders a service's materialized answer: "A x, y | AAAA z"
// or "CNAME t." or "" for nothing.
func materialized(t *testing.T, f *fixture) string {
	t.Helper()
	m := f.snapshot(t, nil, nil).Services()[0].Materialize()
	if m.CNAME != nil {
		name, _, err := dns.UnpackDomainName(m.CNAME, 0)
		if err != nil {
			t.Fatal(err)
		}
		return "CNAME " + name
	}
	var parts []string
	for _, fam := range []struct {
		label string
		rds   [][]byte
	}{{"A", m.A}, {"AAAA", m.AAAA}} {
		if len(fam.rds) == 0 {
			continue
		}
		var as []string
		for _, rd := range fam.rds {
			a, _ := netip.AddrFromSlice(rd)
			as = append(as, a.String())
		}
		parts = append(parts, fam.label+" "+strings.Join(as, ", "))
	}
	return strings.Join(parts, " | ")
}

func TestMaterialize(t *testing.T) {
	two := pools(model.Pool{Name: "primary", Priority: 1}, model.Pool{Name: "backup", Priority: 2})
	for _, tc := range []struct {
		name string
		svc  model.Service
		eps  []string
		want string
	}{
		{"failover: every healthy endpoint of the first tier",
			model.Service{Policy: model.PolicyFailover, Pools: two},
			[]string{"a primary 192.0.2.1", "b primary 192.0.2.2", "c primary 2001:db8::1", "d backup 198.51.100.1"},
			"A 192.0.2.1, 192.0.2.2 | AAAA 2001:db8::1"},
		{"failover: the backup when the first tier is down",
			model.Service{Policy: model.PolicyFailover, Pools: two},
			[]string{"a primary 192.0.2.1 down", "d backup 198.51.100.1"}, "A 198.51.100.1"},
		{"weighted and first_n: all of them, not one",
			model.Service{Policy: model.PolicyWeighted, Pools: pools(model.Pool{Name: "primary", Priority: 1})},
			[]string{"a primary 192.0.2.1", "b primary 192.0.2.2", "c primary 192.0.2.3 down"}, "A 192.0.2.1, 192.0.2.2"},
		{"geo: no location, so the best tier",
			model.Service{Policy: model.PolicyGeo, Pools: pools(model.Pool{Name: "primary", Priority: 1, Region: "eu-west"}, model.Pool{Name: "backup", Priority: 2, Region: "us-east"})},
			[]string{"a primary 192.0.2.1", "b backup 198.51.100.1"}, "A 192.0.2.1"},
		{"all down: the static fallback",
			model.Service{Policy: model.PolicyFailover, Pools: two, WhenAllDown: model.AllDown{Mode: model.AllDownStatic, Static: []string{"203.0.113.7"}}},
			[]string{"a primary 192.0.2.1 down", "d backup 198.51.100.1 down"}, "A 203.0.113.7"},
		{"all down, servfail: nothing",
			model.Service{Policy: model.PolicyFailover, Pools: two, WhenAllDown: model.AllDown{Mode: model.AllDownServFail}},
			[]string{"a primary 192.0.2.1 down"}, ""},
		{"a hostname: its CNAME",
			model.Service{Policy: model.PolicyFailover, Pools: two},
			[]string{"a primary fn.lambda-url.example.net", "d backup 198.51.100.1"}, "CNAME fn.lambda-url.example.net."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := materialized(t, newFixture(t, tc.svc, tc.eps...)); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
