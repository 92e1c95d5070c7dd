package steer

import (
	"net/netip"
	"testing"

	"github.com/stratusdns/stratus/internal/geo"
	"github.com/stratusdns/stratus/internal/geo/geotest"
	"github.com/stratusdns/stratus/internal/model"
)

// TestECSScope checks that the ECS scope of a located answer never claims
// the answer for addresses the tables place elsewhere: a client subnet that
// a table entry covers only in part, or that holds an entry, gets the
// length of the network around its address that the tables place alike,
// longer than the subnet sent (RFC 7871 section 7.2.1).
func TestECSScope(t *testing.T) {
	f64 := func(v float64) *float64 { return &v }
	tab, err := geo.NewTable([]geo.Entry{
		{Prefix: netip.MustParsePrefix("10.0.0.0/8"), Region: "eu-west", Continent: "EU", Lat: f64(53.3), Lon: f64(-6.3)},
		{Prefix: netip.MustParsePrefix("10.1.2.0/24"), Region: "us-east", Continent: "NA", Lat: f64(38.9), Lon: f64(-77.0)},
		{Prefix: netip.MustParsePrefix("2001:db8::/32"), Region: "eu-west", Continent: "EU", Lat: f64(53.3), Lon: f64(-6.3)},
		{Prefix: netip.MustParsePrefix("2001:db8:1::/48"), Region: "us-east", Continent: "NA", Lat: f64(38.9), Lon: f64(-77.0)},
	})
	if err != nil {
		t.Fatal(err)
	}
	mm, err := geo.OpenMaxMind(geotest.WriteDB(t, "GeoIP2-City", 6, []geotest.Network{
		{Prefix: "81.2.69.0/24", Record: geotest.CityRecord("GB", "EU", &[2]float64{51.5, -0.1})},
		{Prefix: "216.160.83.0/24", Record: geotest.CityRecord("US", "NA", &[2]float64{47.2, -122.3})},
		{Prefix: "2a02:ff80::/32", Record: geotest.CityRecord("DE", "EU", &[2]float64{50.1, 8.7})},
		{Prefix: "2a02:ff80:1::/48", Record: geotest.CityRecord("US", "NA", &[2]float64{38.9, -77.0})},
	}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mm.Close() })

	geoSvc := model.Service{Policy: model.PolicyGeo, Pools: pools(
		model.Pool{Name: "dublin", Region: "eu-west", Continent: "EU", Latitude: f64(53.35), Longitude: f64(-6.26), Priority: 1},
		model.Pool{Name: "virginia", Region: "us-east", Continent: "NA", Latitude: f64(38.95), Longitude: f64(-77.45), Priority: 1},
	)}
	geoEps := []string{"d dublin 192.0.2.1", "v virginia 198.51.100.1"}
	sticky := model.Service{Policy: model.PolicyWeighted, Sticky: true, Pools: pools(model.Pool{Name: "p"})}
	stickyEps := []string{"a p 192.0.2.1", "b p 192.0.2.2"}
	tests := []struct {
		name    string
		svc     model.Service
		eps     []string
		locator geo.Locator
		subnet  string
		want    string // answer; "" for any
		scope   uint8
	}{
		// The CIDR table: 10.1.2.0/24 lies inside 10/8.
		{"v4 subnet holding a nested entry", geoSvc, geoEps, tab, "10.1.0.0/22", "A 192.0.2.1", 23},
		{"v4 subnet part of which is a nested entry", geoSvc, geoEps, tab, "10.1.2.0/23", "A 198.51.100.1", 24},
		{"v4 subnet inside the nested entry", geoSvc, geoEps, tab, "10.1.2.128/25", "A 198.51.100.1", 24},
		{"v4 subnet beside the nested entry", geoSvc, geoEps, tab, "10.1.0.0/24", "A 192.0.2.1", 23},
		{"v4 subnet far from the nested entry", geoSvc, geoEps, tab, "10.200.0.0/16", "A 192.0.2.1", 9},
		{"v4 subnet holding the whole table", geoSvc, geoEps, tab, "0.0.0.0/4", "A 192.0.2.1, 198.51.100.1", 5},
		{"v4 subnet the table does not know", geoSvc, geoEps, tab, "192.0.2.0/24", "A 192.0.2.1, 198.51.100.1", 1},
		{"v6 subnet holding a nested entry", geoSvc, geoEps, tab, "2001:db8::/32", "A 192.0.2.1", 48},
		{"v6 subnet part of which is a nested entry", geoSvc, geoEps, tab, "2001:db8::/47", "A 192.0.2.1", 48},
		{"v6 subnet inside an entry", geoSvc, geoEps, tab, "2001:db8:8000::/56", "A 192.0.2.1", 33},
		{"v6 subnet holding the table, unknown address", geoSvc, geoEps, tab, "2001::/16", "A 192.0.2.1, 198.51.100.1", 21},
		// A MaxMind database: 2a02:ff80:1::/48 lies inside 2a02:ff80::/32.
		{"MaxMind v4 subnet part of which is a network", geoSvc, geoEps, mm, "81.2.68.0/22", "A 192.0.2.1, 198.51.100.1", 24},
		{"MaxMind v4 subnet inside a network", geoSvc, geoEps, mm, "81.2.69.0/26", "A 192.0.2.1", 24},
		{"MaxMind v4 subnet holding a network", geoSvc, geoEps, mm, "216.160.80.0/21", "A 192.0.2.1, 198.51.100.1", 23},
		{"MaxMind v6 subnet holding a nested network", geoSvc, geoEps, mm, "2a02:ff80::/32", "A 192.0.2.1", 48},
		{"MaxMind v6 subnet part of which is a nested network", geoSvc, geoEps, mm, "2a02:ff80::/47", "A 192.0.2.1", 48},
		{"MaxMind v6 subnet in the nested network", geoSvc, geoEps, mm, "2a02:ff80:1::/56", "A 198.51.100.1", 48},
		// The table first, then MaxMind: the table's miss narrows it.
		{"chain", geoSvc, geoEps, geo.Chain{tab, mm}, "81.2.69.0/24", "A 192.0.2.1", 24},
		// Sticky answers follow the client's /24 (/56).
		{"sticky v4 subnet shorter than /24", sticky, stickyEps, nil, "10.9.0.0/16", "", 24},
		{"sticky v4 /32", sticky, stickyEps, nil, "10.9.0.1/32", "", 24},
		{"sticky v6 subnet shorter than /56", sticky, stickyEps, nil, "2001:db8::/48", "", 56},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.svc, tc.eps...)
			s := f.snapshot(t, tc.locator, nil)
			p := netip.MustParsePrefix(tc.subnet)
			c := client("203.0.113.53")
			c.HasECS, c.ECSAddr, c.ECSSource = true, p.Addr(), uint8(p.Bits())
			got := ask(t, s, 1, c)
			if (tc.want != "" && got != tc.want) || c.Scope != tc.scope {
				t.Errorf("subnet %s: %q scope %d, want %q scope %d", tc.subnet, got, c.Scope, tc.want, tc.scope)
			}
			x, _ := s.Explain(string(f.svc.Name.Wire()), 1, netip.MustParseAddr("203.0.113.53"), p)
			if x.Scope != tc.scope {
				t.Errorf("explain %s: scope %d, want %d", tc.subnet, x.Scope, tc.scope)
			}
			if tc.locator != nil {
				checkUniform(t, tc.locator, netip.PrefixFrom(p.Addr(), int(c.Scope)).Masked())
			}
		})
	}
}

// checkUniform checks that the locator places every address of p alike:
// its first and last, and the first and last of each of its 256 parts.
func checkUniform(t *testing.T, l geo.Locator, p netip.Prefix) {
	t.Helper()
	where := func(a netip.Addr) geo.Location {
		loc := l.Locate(a)
		loc.Prefix = netip.Prefix{}
		return loc
	}
	want := where(p.Addr())
	bits := min(p.Bits()+8, p.Addr().BitLen())
	for a := p.Addr(); p.Contains(a); {
		part := netip.PrefixFrom(a, bits)
		last := lastOf(part)
		for _, b := range []netip.Addr{a, last} {
			if got := where(b); got != want {
				t.Fatalf("scope %s claims one answer, but %s is at %+v and %s at %+v", p, p.Addr(), want, b, got)
			}
		}
		if a = last.Next(); !a.IsValid() {
			break
		}
	}
}

// lastOf returns the last address of p.
func lastOf(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}
