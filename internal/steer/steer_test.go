package steer

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/dnsconst"
	"github.com/stratusdns/stratus/internal/geo"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/zone"
)

var now = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// fixture builds a compiled snapshot from a service and endpoint specs
// written compactly: "id pool address [down|unknown]".
type fixture struct {
	svc    model.Service
	eps    []*model.Endpoint
	health map[string]Health
	meter  *Meter // counts the answers (nil: not counted)
}

func newFixture(t testing.TB, svc model.Service, eps ...string) *fixture {
	t.Helper()
	svc.Name = model.MustName("api.example.com.")
	for i := range svc.Pools {
		if svc.Pools[i].Check.Type == "" {
			svc.Pools[i].Check.Type = model.CheckHTTP
		}
	}
	svc.Normalize()
	if err := svc.Validate(); err != nil {
		t.Fatalf("service: %v", err)
	}
	f := &fixture{svc: svc, health: map[string]Health{}}
	for _, s := range eps {
		parts := strings.Fields(s)
		e := &model.Endpoint{Service: svc.Name, ID: parts[0], Pool: parts[1], Address: parts[2], Created: now}
		e.Normalize()
		if err := e.Validate(&f.svc); err != nil {
			t.Fatalf("endpoint %q: %v", s, err)
		}
		state := Up
		if len(parts) > 3 {
			switch parts[3] {
			case "down":
				state = Down
			case "unknown":
				state = Unknown
			case "drained":
				state = Down
				e.Override = &model.Override{State: "down", Actor: "ops"}
			}
		}
		f.health[Key(svc.Name, e.ID)] = Health{State: state, Added: now}
		f.eps = append(f.eps, e)
	}
	return f
}

func (f *fixture) snapshot(t testing.TB, loc geo.Locator, lat LatencyTable) *Snapshot {
	t.Helper()
	s, err := Compile(&f.svc, f.eps, Inputs{Now: now, Health: func(k string) (Health, bool) {
		h, ok := f.health[k]
		return h, ok
	}, Meter: f.meter})
	if err != nil {
		t.Fatal(err)
	}
	return NewSnapshot([]*CompiledService{s}, loc, lat)
}

// ask returns the answer as "TYPE data, data" (or "NODATA"/"SERVFAIL").
func ask(t testing.TB, s *Snapshot, qtype uint16, c *zone.Client) string {
	t.Helper()
	c.Begin()
	set, rcode := s.Steer(string(model.MustName("api.example.com.").Wire()), qtype, c)
	if rcode != dnsconst.RcodeSuccess {
		return "SERVFAIL"
	}
	if set == nil {
		return "NODATA"
	}
	var data []string
	for _, rd := range set.Rdata {
		txt, err := model.FormatRdata(set.Type, rd)
		if err != nil {
			t.Fatal(err)
		}
		data = append(data, txt)
	}
	sort.Strings(data)
	return model.TypeString(set.Type) + " " + strings.Join(data, ", ")
}

func client(addr string) *zone.Client {
	c := &zone.Client{Addr: netip.MustParseAddr(addr)}
	c.Seed(1)
	return c
}

func pools(ps ...model.Pool) []model.Pool { return ps }

func TestFailover(t *testing.T) {
	svc := model.Service{Pools: pools(
		model.Pool{Name: "primary", Priority: 1},
		model.Pool{Name: "secondary", Priority: 2},
	)}
	tests := []struct {
		name string
		eps  []string
		want string
	}{
		{"the first tier answers", []string{"a primary 192.0.2.1", "b primary 192.0.2.2", "c secondary 198.51.100.1"}, "A 192.0.2.1, 192.0.2.2"},
		{"unhealthy endpoints are left out", []string{"a primary 192.0.2.1 down", "b primary 192.0.2.2", "c secondary 198.51.100.1"}, "A 192.0.2.2"},
		{"the next tier when the first is down", []string{"a primary 192.0.2.1 down", "b primary 192.0.2.2 down", "c secondary 198.51.100.1"}, "A 198.51.100.1"},
		{"everything down fails open", []string{"a primary 192.0.2.1 down", "c secondary 198.51.100.1 down"}, "A 192.0.2.1"},
		{"cold start counts unknown as up", []string{"a primary 192.0.2.1 unknown", "c secondary 198.51.100.1"}, "A 192.0.2.1"},
		{"a hostname answers a CNAME", []string{"a primary fn-abc.lambda-url.example.net", "c secondary 198.51.100.1"}, "CNAME fn-abc.lambda-url.example.net."},
		{"no endpoint at all is NODATA", nil, "NODATA"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, svc, tc.eps...)
			if got := ask(t, f.snapshot(t, nil, nil), 1, client("192.0.2.200")); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestMinHealthyTakesAPoolDown(t *testing.T) {
	f := newFixture(t, model.Service{Pools: pools(
		model.Pool{Name: "primary", Priority: 1, MinHealthy: 2},
		model.Pool{Name: "secondary", Priority: 2},
	)}, "a primary 192.0.2.1", "b primary 192.0.2.2 down", "c secondary 198.51.100.1")
	if got := ask(t, f.snapshot(t, nil, nil), 1, client("192.0.2.200")); got != "A 198.51.100.1" {
		t.Errorf("got %q", got)
	}
}

func TestAllDownModes(t *testing.T) {
	eps := []string{"a primary 192.0.2.1 down", "b backup 203.0.113.9 down"}
	// An endpoint an operator took out is never answered, all down or not.
	drained := []string{"a primary 192.0.2.1 drained", "b primary 192.0.2.2 down", "c backup 203.0.113.9 drained", "d backup 203.0.113.10 down"}
	tests := []struct {
		mode model.AllDown
		eps  []string
		want string
	}{
		{model.AllDown{Mode: model.AllDownFailOpen}, eps, "A 192.0.2.1"},
		{model.AllDown{Mode: model.AllDownFallback, Pool: "backup"}, eps, "A 203.0.113.9"},
		{model.AllDown{Mode: model.AllDownStatic, Static: []string{"198.51.100.7", "198.51.100.8"}}, eps, "A 198.51.100.7, 198.51.100.8"},
		{model.AllDown{Mode: model.AllDownStatic, Static: []string{"sorry.example.net"}}, eps, "CNAME sorry.example.net."},
		{model.AllDown{Mode: model.AllDownNoData}, eps, "NODATA"},
		{model.AllDown{Mode: model.AllDownServFail}, eps, "SERVFAIL"},
		{model.AllDown{Mode: model.AllDownFailOpen}, drained, "A 192.0.2.2"},
		{model.AllDown{Mode: model.AllDownFallback, Pool: "backup"}, drained, "A 203.0.113.10"},
	}
	for _, tc := range tests {
		t.Run(tc.mode.Mode, func(t *testing.T) {
			f := newFixture(t, model.Service{WhenAllDown: tc.mode, Pools: pools(
				model.Pool{Name: "primary", Priority: 1}, model.Pool{Name: "backup", Priority: 9})}, tc.eps...)
			if got := ask(t, f.snapshot(t, nil, nil), 1, client("192.0.2.200")); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestJurisdictionNeverCrossed(t *testing.T) {
	f := newFixture(t, model.Service{Jurisdictions: []string{"eu"}, Pools: pools(
		model.Pool{Name: "eu-1", Priority: 1, Jurisdiction: "eu"},
		model.Pool{Name: "us-1", Priority: 2, Jurisdiction: "us"},
	)}, "a eu-1 192.0.2.1 down", "b us-1 198.51.100.1")
	// The EU pool is down and the US one is healthy: fail open within the EU.
	if got := ask(t, f.snapshot(t, nil, nil), 1, client("192.0.2.200")); got != "A 192.0.2.1" {
		t.Errorf("got %q, want the EU endpoint even though it is down", got)
	}
}

func TestFamilies(t *testing.T) {
	f := newFixture(t, model.Service{Pools: pools(model.Pool{Name: "p"})}, "a p 192.0.2.1", "b p 2001:db8::1")
	s := f.snapshot(t, nil, nil)
	for qtype, want := range map[uint16]string{1: "A 192.0.2.1", 28: "AAAA 2001:db8::1", 5: "NODATA", 255: "A 192.0.2.1"} {
		if got := ask(t, s, qtype, client("192.0.2.200")); got != want {
			t.Errorf("qtype %d: got %q, want %q", qtype, got, want)
		}
	}
}

// TestANY: ANY answers one RRset (RFC 8482), A when the answer has IPv4
// addresses, else AAAA, from one evaluation of the chain, for precomputed
// (failover) and per-query (multivalue) chains alike.
func TestANY(t *testing.T) {
	for _, policy := range []string{model.PolicyFailover, model.PolicyMultivalue} {
		f := newFixture(t, model.Service{Policy: policy, Pools: pools(model.Pool{Name: "p"})}, "a p 2001:db8::1", "b p 2001:db8::2")
		if got := ask(t, f.snapshot(t, nil, nil), 255, client("192.0.2.200")); got != "AAAA 2001:db8::1, 2001:db8::2" {
			t.Errorf("%s: ANY at an IPv6-only service = %q", policy, got)
		}
	}
}

func TestWeightsConverge(t *testing.T) {
	f := newFixture(t, model.Service{Policy: model.PolicyWeighted, Pools: pools(
		model.Pool{Name: "stable", Weight: 9}, model.Pool{Name: "canary", Weight: 1},
	)}, "a stable 192.0.2.1", "b canary 192.0.2.2")
	s := f.snapshot(t, nil, nil)
	c := client("192.0.2.200")
	counts := map[string]int{}
	const n = 20000
	for range n {
		counts[ask(t, s, 1, c)]++
	}
	share := float64(counts["A 192.0.2.2"]) / n
	// 10% expected; 4 standard deviations of a binomial(20000, 0.1) is 0.0085.
	if math.Abs(share-0.1) > 0.0085 {
		t.Errorf("canary got %.3f of %d answers, want 0.100 (counts %v)", share, n, counts)
	}
}

func TestStickyWeights(t *testing.T) {
	f := newFixture(t, model.Service{Policy: model.PolicyWeighted, Sticky: true, Pools: pools(
		model.Pool{Name: "a", Weight: 1}, model.Pool{Name: "b", Weight: 1},
	)}, "a a 192.0.2.1", "b b 192.0.2.2")
	s := f.snapshot(t, nil, nil)
	seen := map[string]bool{}
	for i := range 200 {
		c := client("192.0.2.200")
		c.HasECS, c.ECSAddr, c.ECSSource = true, netip.AddrFrom4([4]byte{10, byte(i), 0, 0}), 24
		first := ask(t, s, 1, c)
		for range 5 {
			c.Seed(uint64(i) * 7)
			if again := ask(t, s, 1, c); again != first {
				t.Fatalf("subnet %d: %q then %q", i, first, again)
			}
		}
		if c.Scope != 24 {
			t.Errorf("sticky answer scope %d, want 24", c.Scope)
		}
		seen[first] = true
	}
	if len(seen) != 2 {
		t.Errorf("200 subnets all got the same endpoint: %v", seen)
	}
}

// TestStickyRehoming: sticky choices share subnets by weight, and when an
// endpoint leaves only its subnets move.
func TestStickyRehoming(t *testing.T) {
	svc := model.Service{Policy: model.PolicyWeighted, Sticky: true, Pools: pools(model.Pool{Name: "p"})}
	all := []string{"a p 192.0.2.1", "b p 192.0.2.2", "c p 192.0.2.3", "d p 192.0.2.4"}
	const subnets = 4000
	choose := func(eps []string, weights map[string]uint32) []string {
		f := newFixture(t, svc, eps...)
		for _, e := range f.eps {
			if w, ok := weights[e.ID]; ok {
				e.Weight = w
			}
		}
		s := f.snapshot(t, nil, nil)
		out := make([]string, subnets)
		for i := range subnets {
			c := client("192.0.2.200")
			c.HasECS, c.ECSAddr, c.ECSSource = true, netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 0}), 24
			out[i] = ask(t, s, 1, c)
		}
		return out
	}
	before := choose(all, nil)
	after := choose(all[1:], nil) // a leaves
	moved := 0
	for i := range subnets {
		if before[i] != "A 192.0.2.1" && after[i] != before[i] {
			moved++
		}
	}
	if moved != 0 {
		t.Errorf("%d subnets not on the endpoint that left moved", moved)
	}
	// Weights 3:1: the heavy endpoint gets 75%; 4 standard deviations of a
	// binomial(4000, 0.75) is 0.027.
	counts := map[string]int{}
	for _, a := range choose(all[:2], map[string]uint32{"a": 3, "b": 1}) {
		counts[a]++
	}
	if share := float64(counts["A 192.0.2.1"]) / subnets; math.Abs(share-0.75) > 0.027 {
		t.Errorf("weight 3 of 4 got %.3f of subnets (counts %v)", share, counts)
	}
}

func TestMultivalue(t *testing.T) {
	var eps []string
	for i := range 10 {
		eps = append(eps, fmt.Sprintf("e%d p 192.0.2.%d", i, i+1))
	}
	eps[3] += " down"
	f := newFixture(t, model.Service{Policy: model.PolicyMultivalue, MaxAnswers: 4, Pools: pools(model.Pool{Name: "p"})}, eps...)
	s := f.snapshot(t, nil, nil)
	c := client("192.0.2.200")
	variety := map[string]bool{}
	for range 50 {
		got := ask(t, s, 1, c)
		if strings.Count(got, ",") != 3 || strings.Contains(got, "192.0.2.4,") || strings.HasSuffix(got, "192.0.2.4") {
			t.Fatalf("got %q", got)
		}
		variety[got] = true
	}
	if len(variety) < 5 {
		t.Errorf("only %d different answers in 50: not shuffled", len(variety))
	}
}

// locator is a CIDR table for tests.
func locator(t testing.TB) geo.Locator {
	f := func(v float64) *float64 { return &v }
	tab, err := geo.NewTable([]geo.Entry{
		{Prefix: netip.MustParsePrefix("10.1.0.0/16"), Region: "eu-west", Country: "IE", Continent: "EU", Lat: f(53.3), Lon: f(-6.3)},
		{Prefix: netip.MustParsePrefix("10.2.0.0/16"), Region: "us-east", Country: "US", Continent: "NA", Lat: f(38.9), Lon: f(-77.0)},
		{Prefix: netip.MustParsePrefix("10.3.0.0/16"), Region: "ap-south", Country: "IN", Continent: "AS"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

func TestGeo(t *testing.T) {
	f64 := func(v float64) *float64 { return &v }
	f := newFixture(t, model.Service{Policy: model.PolicyGeo, Pools: pools(
		model.Pool{Name: "dublin", Region: "eu-west", Country: "IE", Continent: "EU", Latitude: f64(53.35), Longitude: f64(-6.26), Priority: 1},
		model.Pool{Name: "virginia", Region: "us-east", Country: "US", Continent: "NA", Latitude: f64(38.95), Longitude: f64(-77.45), Priority: 1},
	)}, "d dublin 192.0.2.1", "v virginia 198.51.100.1")
	s := f.snapshot(t, locator(t), nil)
	tests := []struct {
		name  string
		ecs   string
		want  string
		scope uint8
	}{
		{"an Irish client goes to Dublin", "10.1.2.0/24", "A 192.0.2.1", 16},
		{"an American client goes to Virginia", "10.2.9.0/24", "A 198.51.100.1", 16},
		{"an unknown client gets the priority order, scoped to the unknown network", "172.16.0.0/24", "A 192.0.2.1, 198.51.100.1", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := client("203.0.113.53")
			p := netip.MustParsePrefix(tc.ecs)
			c.HasECS, c.ECSAddr, c.ECSSource = true, p.Addr(), uint8(p.Bits())
			if got := ask(t, s, 1, c); got != tc.want || c.Scope != tc.scope {
				t.Errorf("got %q scope %d, want %q scope %d", got, c.Scope, tc.want, tc.scope)
			}
		})
	}
	// Dublin down: the Irish client fails over to Virginia.
	f.health[Key(f.svc.Name, "d")] = Health{State: Down}
	c := client("203.0.113.53")
	c.HasECS, c.ECSAddr, c.ECSSource = true, netip.MustParseAddr("10.1.2.0"), 24
	if got := ask(t, f.snapshot(t, locator(t), nil), 1, c); got != "A 198.51.100.1" {
		t.Errorf("Dublin down: got %q", got)
	}
}

func TestLatency(t *testing.T) {
	f := newFixture(t, model.Service{Policy: model.PolicyLatency, Pools: pools(
		model.Pool{Name: "eu", Region: "eu-west"}, model.Pool{Name: "us", Region: "us-east"},
	)}, "e eu 192.0.2.1", "u us 198.51.100.1")
	lat := LatencyTable{"ap-south": {"eu-west": 120, "us-east": 210}, "us-east": {"eu-west": 80, "us-east": 5}}
	s := f.snapshot(t, locator(t), lat)
	for _, tc := range []struct{ from, want string }{{"10.3.0.1", "A 192.0.2.1"}, {"10.2.0.1", "A 198.51.100.1"}} {
		if got := ask(t, s, 1, client(tc.from)); got != tc.want {
			t.Errorf("client %s: got %q, want %q", tc.from, got, tc.want)
		}
	}
}

func TestOverrides(t *testing.T) {
	f := newFixture(t, model.Service{Pools: pools(model.Pool{Name: "p", Priority: 1}, model.Pool{Name: "q", Priority: 2})},
		"a p 192.0.2.1", "b q 198.51.100.1 down")
	f.eps[0].Override = &model.Override{State: "down", Actor: "alice"}
	f.eps[1].Override = &model.Override{State: "up", Actor: "bob"}
	if got := ask(t, f.snapshot(t, nil, nil), 1, client("192.0.2.200")); got != "A 198.51.100.1" {
		t.Errorf("got %q", got)
	}
	f.eps[0].Override, f.eps[1].Override = nil, nil
	f.svc.Pools[0].Override = &model.Override{State: "down", Actor: "carol"} // drain the pool
	f.health[Key(f.svc.Name, "b")] = Health{State: Up}
	if got := ask(t, f.snapshot(t, nil, nil), 1, client("192.0.2.200")); got != "A 198.51.100.1" {
		t.Errorf("drained pool: got %q", got)
	}
	// An override with a time limit ends by itself.
	f.svc.Pools[0].Override = &model.Override{State: "down", Actor: "drill:x", Expires: now.Add(time.Second)}
	if got := ask(t, f.snapshot(t, nil, nil), 1, client("192.0.2.200")); got != "A 198.51.100.1" {
		t.Errorf("pool drained until a second from now: got %q", got)
	}
	f.svc.Pools[0].Override.Expires = now
	if got := ask(t, f.snapshot(t, nil, nil), 1, client("192.0.2.200")); got != "A 192.0.2.1" {
		t.Errorf("pool drain expired: got %q", got)
	}
	f.svc.Pools[0].Override = nil
	f.eps[0].Override = &model.Override{State: "down", Actor: "drill:x", Expires: now.Add(-time.Second)}
	if got := ask(t, f.snapshot(t, nil, nil), 1, client("192.0.2.200")); got != "A 192.0.2.1" {
		t.Errorf("endpoint override expired: got %q", got)
	}
}

func TestLeaseLapse(t *testing.T) {
	f := newFixture(t, model.Service{Pools: pools(model.Pool{Name: "p"})}, "a p 192.0.2.1", "b p 192.0.2.2")
	f.eps[0].LeaseTTL, f.eps[0].Expires = model.Duration(time.Second), now
	if got := ask(t, f.snapshot(t, nil, nil), 1, client("192.0.2.200")); got != "A 192.0.2.2" {
		t.Errorf("lapsed lease still answered: %q", got)
	}
}

func TestDegradedTTL(t *testing.T) {
	f := newFixture(t, model.Service{TTL: 60, DegradedTTL: 5, Pools: pools(model.Pool{Name: "p"})}, "a p 192.0.2.1", "b p 192.0.2.2")
	c := client("192.0.2.9")
	set, _ := f.snapshot(t, nil, nil).Steer(string(f.svc.Name.Wire()), 1, c)
	if set.TTL != 60 {
		t.Errorf("healthy TTL %d", set.TTL)
	}
	f.health[Key(f.svc.Name, "a")] = Health{State: Down}
	c.Begin()
	set, _ = f.snapshot(t, nil, nil).Steer(string(f.svc.Name.Wire()), 1, c)
	if set.TTL != 5 {
		t.Errorf("degraded TTL %d, want 5", set.TTL)
	}
}

func TestExplain(t *testing.T) {
	f := newFixture(t, model.Service{Jurisdictions: []string{"eu"}, Pools: pools(
		model.Pool{Name: "eu-1", Priority: 1, Jurisdiction: "eu"},
		model.Pool{Name: "eu-2", Priority: 2, Jurisdiction: "eu"},
		model.Pool{Name: "us-1", Priority: 1, Jurisdiction: "us"},
	)}, "a eu-1 192.0.2.1 down", "b eu-2 192.0.2.2", "c us-1 198.51.100.1")
	x, ok := f.snapshot(t, nil, nil).Explain(string(f.svc.Name.Wire()), 1, netip.MustParseAddr("192.0.2.9"), netip.Prefix{})
	if !ok {
		t.Fatal("no service")
	}
	var lines []string
	for _, st := range x.Steps {
		for _, r := range st.Removed {
			lines = append(lines, st.Filter+": "+r.Endpoint+": "+r.Reason)
		}
	}
	want := []string{
		`jurisdiction: c: pool us-1 is in jurisdiction "us", not one of eu`,
		"health: a: check: down",
	}
	if !slices.Equal(lines, want) || strings.Join(x.Answer, ",") != "A 192.0.2.2" {
		t.Errorf("explanation:\n%s\nanswer %v", strings.Join(lines, "\n"), x.Answer)
	}
}

func TestSteerAllocations(t *testing.T) {
	f64 := func(v float64) *float64 { return &v }
	for _, label := range append(slices.Clone(model.Policies), "sticky", "geo, failing over", "failover, failing over") {
		policy := label
		var eps []string
		for i := range 6 {
			eps = append(eps, fmt.Sprintf("e%d p%d 192.0.2.%d", i, i%3, i+1))
		}
		if name, ok := strings.CutSuffix(policy, ", failing over"); ok {
			// The client's pool is down: the answer is a failover,
			// which takes a second look at the chain.
			policy, eps[0], eps[3] = name, eps[0]+" down", eps[3]+" down"
		}
		t.Run(label, func(t *testing.T) {
			svc := model.Service{Policy: policy}
			if policy == "sticky" {
				svc = model.Service{Policy: model.PolicyWeighted, Sticky: true}
			}
			f := newFixture(t, model.Service{Policy: svc.Policy, Sticky: svc.Sticky, Pools: pools(
				model.Pool{Name: "p0", Region: "eu-west", Latitude: f64(50), Longitude: f64(8), Priority: 1},
				model.Pool{Name: "p1", Region: "us-east", Latitude: f64(40), Longitude: f64(-75), Priority: 1},
				model.Pool{Name: "p2", Priority: 2},
			)}, eps...)
			f.meter = NewMeter() // answers are counted, as when serving
			s := f.snapshot(t, locator(t), LatencyTable{"eu-west": {"eu-west": 5, "us-east": 90}})
			owner := string(f.svc.Name.Wire())
			c := client("10.1.0.9")
			c.HasECS, c.ECSAddr, c.ECSSource = true, netip.MustParseAddr("10.1.0.0"), 24
			s.Steer(owner, 1, c)
			if n := testing.AllocsPerRun(200, func() { c.Begin(); s.Steer(owner, 1, c) }); n != 0 {
				t.Errorf("%v allocations per steered answer", n)
			}
		})
	}
}

// TestProperties checks, over random services and health states, that an
// answer is never empty and never holds an unhealthy endpoint while a
// healthy endpoint in an allowed pool that is up exists, and never crosses
// a jurisdiction.
func TestProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	juris := []string{"eu", "us", "apac"}
	for iter := range 2000 {
		var ps []model.Pool
		np := 1 + r.IntN(4)
		for i := range np {
			ps = append(ps, model.Pool{Name: fmt.Sprintf("p%d", i), Priority: r.IntN(3), Jurisdiction: juris[r.IntN(3)], MinHealthy: 1 + r.IntN(2), Weight: uint32(1 + r.IntN(5))})
		}
		svc := model.Service{Policy: model.Policies[r.IntN(len(model.Policies))], Pools: ps}
		if r.IntN(2) == 0 {
			svc.Jurisdictions = []string{ps[r.IntN(np)].Jurisdiction}
		}
		var eps []string
		for i := range r.IntN(8) {
			e := fmt.Sprintf("e%d p%d 192.0.2.%d", i, r.IntN(np), i+1)
			if r.IntN(3) == 0 {
				e += " down"
			}
			eps = append(eps, e)
		}
		f := newFixture(t, svc, eps...)
		s := f.snapshot(t, locator(t), nil)
		cs := s.services[string(f.svc.Name.Wire())]
		healthyAllowed := false
		for _, e := range cs.Endpoints {
			if e.Up && cs.Pools[e.Pool].Up && cs.allowed[e.Pool] {
				healthyAllowed = true
			}
		}
		c := client(fmt.Sprintf("10.%d.0.1", 1+r.IntN(3)))
		c.Begin()
		set, rcode := s.Steer(cs.Owner, 1, c)
		if healthyAllowed && (set == nil || rcode != dnsconst.RcodeSuccess) {
			t.Fatalf("iteration %d: rcode %d, no answer although a healthy endpoint exists", iter, rcode)
		}
		if set == nil {
			continue
		}
		for _, rd := range set.Rdata {
			addr, _ := netip.AddrFromSlice(rd)
			for _, e := range cs.Endpoints {
				if e.Addr != addr {
					continue
				}
				if !cs.allowed[e.Pool] {
					t.Fatalf("iteration %d: answered %s in pool %s outside the jurisdictions %v", iter, addr, cs.Pools[e.Pool].Spec.Name, svc.Jurisdictions)
				}
				if healthyAllowed && (!e.Up || !cs.Pools[e.Pool].Up) {
					t.Fatalf("iteration %d: answered unhealthy %s although a healthy endpoint exists", iter, addr)
				}
			}
		}
	}
}

// BenchmarkSteer answers from six endpoints in three pools, all up, and
// with one down ("degraded"): its pool, the client's, is then degraded;
// and each with the answers counted ("counted"), as with metrics on.
func BenchmarkSteer(b *testing.B) {
	var labels []string
	for _, l := range append(slices.Clone(model.Policies), "weighted, degraded", "geo, degraded", "latency, degraded") {
		labels = append(labels, l, l+", counted")
	}
	for _, label := range labels {
		label, counted := strings.CutSuffix(label, ", counted")
		policy, degraded := strings.CutSuffix(label, ", degraded")
		if counted {
			label += ", counted"
		}
		var eps []string
		for i := range 6 {
			eps = append(eps, fmt.Sprintf("e%d p%d 192.0.2.%d", i, i%3, i+1))
		}
		if degraded {
			eps[0] += " down"
		}
		b.Run(label, func(b *testing.B) {
			f := newFixture(b, model.Service{Policy: policy, Pools: pools(
				model.Pool{Name: "p0", Region: "eu-west", Priority: 1}, model.Pool{Name: "p1", Region: "us-east", Priority: 1}, model.Pool{Name: "p2", Priority: 2},
			)}, eps...)
			if counted {
				f.meter = NewMeter()
			}
			s := f.snapshot(b, locator(b), LatencyTable{"eu-west": {"eu-west": 5, "us-east": 90}})
			owner := string(f.svc.Name.Wire())
			c := client("10.1.0.9")
			b.ReportAllocs()
			for b.Loop() {
				c.Begin()
				s.Steer(owner, 1, c)
			}
		})
	}
}

func TestFlattenedHostnames(t *testing.T) {
	f := newFixture(t, model.Service{Flatten: true, Pools: pools(
		model.Pool{Name: "primary", Priority: 1}, model.Pool{Name: "secondary", Priority: 2},
	)}, "a primary fn-a.example.net", "b secondary 198.51.100.1")
	compile := func(resolved map[model.Name][]netip.Addr) *Snapshot {
		s, err := Compile(&f.svc, f.eps, Inputs{Now: now,
			Health: func(k string) (Health, bool) { h, ok := f.health[k]; return h, ok },
			Flat: func(h model.Name) ([]netip.Addr, []netip.Addr) {
				var v4, v6 []netip.Addr
				for _, a := range resolved[h] {
					if a.Is4() {
						v4 = append(v4, a)
					} else {
						v6 = append(v6, a)
					}
				}
				return v4, v6
			}})
		if err != nil {
			t.Fatal(err)
		}
		return NewSnapshot([]*CompiledService{s}, nil, nil)
	}
	// Not resolved yet: the endpoint cannot be answered, so the next pool is.
	if got := ask(t, compile(nil), 1, client("192.0.2.200")); got != "A 198.51.100.1" {
		t.Errorf("unresolved: got %q", got)
	}
	s := compile(map[model.Name][]netip.Addr{"fn-a.example.net.": {netip.MustParseAddr("203.0.113.5"), netip.MustParseAddr("2001:db8::5")}})
	if got := ask(t, s, 1, client("192.0.2.200")); got != "A 203.0.113.5" {
		t.Errorf("resolved, A: got %q", got)
	}
	if got := ask(t, s, 28, client("192.0.2.200")); got != "AAAA 2001:db8::5" {
		t.Errorf("resolved, AAAA: got %q", got)
	}
}

// TestFilterKindsFollowModel: a filter's kind is its index in
// model.Filters, the names an explicit chain may use.
func TestFilterKindsFollowModel(t *testing.T) {
	kinds := map[string]filterKind{"health": fHealth, "jurisdiction": fJurisdiction, "priority": fPriority, "geo": fGeo,
		"latency": fLatency, "weight": fWeight, "shuffle": fShuffle, "first_n": fFirstN}
	if len(kinds) != len(model.Filters) {
		t.Fatalf("%d filter kinds, %d names in model.Filters", len(kinds), len(model.Filters))
	}
	for name, k := range kinds {
		arg := name
		if k == fFirstN {
			arg += ":3"
		}
		f, err := ParseFilter(arg)
		if err != nil || f.kind != k || f.String() != arg {
			t.Errorf("ParseFilter(%q) = %+v (%s), %v; want kind %d", arg, f, f.String(), err, k)
		}
	}
}

// TestDegradedTTLMeansFailover checks that the degraded TTL marks an answer
// the policy would have given otherwise had an endpoint not been down, and
// nothing else: a client's nearest (or fastest) pool is its answer whatever
// the pool's priority.
func TestDegradedTTLMeansFailover(t *testing.T) {
	f64 := func(v float64) *float64 { return &v }
	geoPools := pools(
		model.Pool{Name: "dublin", Region: "eu-west", Country: "IE", Continent: "EU", Latitude: f64(53.35), Longitude: f64(-6.26), Priority: 1},
		model.Pool{Name: "virginia", Region: "us-east", Country: "US", Continent: "NA", Latitude: f64(38.95), Longitude: f64(-77.45), Priority: 2},
		model.Pool{Name: "oregon", Region: "us-west", Country: "US", Continent: "NA", Latitude: f64(45.6), Longitude: f64(-121.2), Priority: 2},
	)
	latPools := pools(
		model.Pool{Name: "eu", Region: "eu-west", Priority: 1},
		model.Pool{Name: "us", Region: "us-east", Priority: 2},
	)
	lat := LatencyTable{"us-east": {"eu-west": 80, "us-east": 5}, "eu-west": {"eu-west": 5, "us-east": 80}}
	tests := []struct {
		name   string
		svc    model.Service
		eps    []string
		client string // ECS subnet
		want   string
		ttl    uint32
	}{
		{"geo: nearest pool of priority 2, all healthy", model.Service{Policy: model.PolicyGeo, Pools: geoPools},
			[]string{"d dublin 192.0.2.1", "v virginia 198.51.100.1", "o oregon 203.0.113.1"}, "10.2.0.0/24", "A 198.51.100.1", 60},
		{"geo: nearest pool of priority 1, all healthy", model.Service{Policy: model.PolicyGeo, Pools: geoPools},
			[]string{"d dublin 192.0.2.1", "v virginia 198.51.100.1", "o oregon 203.0.113.1"}, "10.1.0.0/24", "A 192.0.2.1", 60},
		{"geo: an endpoint far away is down", model.Service{Policy: model.PolicyGeo, Pools: geoPools},
			[]string{"d dublin 192.0.2.1 down", "v virginia 198.51.100.1", "o oregon 203.0.113.1"}, "10.2.0.0/24", "A 198.51.100.1", 60},
		{"geo: the nearest pool is down, the next nearest answers", model.Service{Policy: model.PolicyGeo, Pools: geoPools},
			[]string{"d dublin 192.0.2.1", "v virginia 198.51.100.1 down", "o oregon 203.0.113.1"}, "10.2.0.0/24", "A 203.0.113.1", 5},
		{"geo: the nearest pool is down, a better tier answers", model.Service{Policy: model.PolicyGeo, Pools: geoPools},
			[]string{"d dublin 192.0.2.1", "v virginia 198.51.100.1 down"}, "10.2.0.0/24", "A 192.0.2.1", 5},
		{"geo: the nearest pool's endpoint is drained", model.Service{Policy: model.PolicyGeo, Pools: geoPools},
			[]string{"d dublin 192.0.2.1", "v virginia 198.51.100.1 drained", "o oregon 203.0.113.1"}, "10.2.0.0/24", "A 203.0.113.1", 5},
		{"latency: fastest pool of priority 2, all healthy", model.Service{Policy: model.PolicyLatency, Pools: latPools},
			[]string{"e eu 192.0.2.1", "u us 198.51.100.1"}, "10.2.0.0/24", "A 198.51.100.1", 60},
		{"latency: the fastest pool is down", model.Service{Policy: model.PolicyLatency, Pools: latPools},
			[]string{"e eu 192.0.2.1", "u us 198.51.100.1 down"}, "10.2.0.0/24", "A 192.0.2.1", 5},
		{"latency: a slower pool is down", model.Service{Policy: model.PolicyLatency, Pools: latPools},
			[]string{"e eu 192.0.2.1 down", "u us 198.51.100.1"}, "10.2.0.0/24", "A 198.51.100.1", 60},
		{"failover: the first tier answers", model.Service{Pools: latPools},
			[]string{"e eu 192.0.2.1", "u us 198.51.100.1 down"}, "10.2.0.0/24", "A 192.0.2.1", 60},
		{"failover: the second tier answers for the first", model.Service{Pools: latPools},
			[]string{"e eu 192.0.2.1 down", "u us 198.51.100.1"}, "10.2.0.0/24", "A 198.51.100.1", 5},
		{"failover: only the second tier has endpoints", model.Service{Pools: latPools},
			[]string{"u us 198.51.100.1"}, "10.2.0.0/24", "A 198.51.100.1", 60},
		{"weighted: a down endpoint of the tier may have been picked", model.Service{Policy: model.PolicyWeighted, Pools: latPools},
			[]string{"e eu 192.0.2.1", "f eu 192.0.2.2 down", "u us 198.51.100.1"}, "10.2.0.0/24", "A 192.0.2.1", 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.svc.TTL, tc.svc.DegradedTTL = 60, 5
			f := newFixture(t, tc.svc, tc.eps...)
			s := f.snapshot(t, locator(t), lat)
			p := netip.MustParsePrefix(tc.client)
			for _, qtype := range []uint16{1, 255} {
				c := client("203.0.113.53")
				c.HasECS, c.ECSAddr, c.ECSSource = true, p.Addr(), uint8(p.Bits())
				c.Begin()
				set, rcode := s.Steer(string(f.svc.Name.Wire()), qtype, c)
				if rcode != dnsconst.RcodeSuccess || set == nil {
					t.Fatalf("qtype %d: rcode %d, set %v", qtype, rcode, set)
				}
				ttl := set.TTL
				c.Begin()
				if got := ask(t, s, qtype, c); got != tc.want || ttl != tc.ttl {
					t.Errorf("qtype %d: got %q TTL %d, want %q TTL %d", qtype, got, ttl, tc.want, tc.ttl)
				}
			}
		})
	}
}
