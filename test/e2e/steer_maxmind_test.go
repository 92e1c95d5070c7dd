package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stratusdns/stratus/internal/geo/geotest"
)

// TestSteerGeoMaxMind: clients located by a MaxMind City database built
// in the test go to the nearest pool by coordinates (or by continent when
// the record has no coordinates), for IPv4 and IPv6 client subnets, and
// the ECS scope is the database network's prefix. A locations table entry
// inside a database network wins for its addresses and narrows the
// database network's scope, also below a client subnet that holds both.
func TestSteerGeoMaxMind(t *testing.T) {
	t.Parallel()
	const svc = "near.fn.example.com"
	db := geotest.WriteDB(t, "GeoIP2-City", 6, []geotest.Network{
		{Prefix: "81.2.69.0/24", Record: geotest.CityRecord("GB", "EU", &[2]float64{51.51, -0.09})},     // London
		{Prefix: "216.160.83.0/24", Record: geotest.CityRecord("US", "NA", &[2]float64{47.61, -122.3})}, // Seattle
		{Prefix: "2a02:ffc0::/32", Record: geotest.CityRecord("JP", "AS", &[2]float64{34.69, 135.5})},   // Osaka
		{Prefix: "89.160.20.112/28", Record: geotest.CityRecord("SE", "EU", nil)},                       // no coordinates
	})
	s := steerStart(t, "", fmt.Sprintf(`steering:
  maxmind_db: %s
  locations:
    - {cidr: 81.2.69.128/25, region: tokyo, latitude: 35.68, longitude: 139.69}
`, db))
	steerZone(t, s, "fn.example.com")
	steerService(t, s, `{"name":"near.fn.example.com","policy":"geo","pools":[
		{"name":"fra","continent":"EU","latitude":50.11,"longitude":8.68,"priority":3},
		{"name":"iad","continent":"NA","latitude":39.04,"longitude":-77.49,"priority":1},
		{"name":"nrt","continent":"AS","latitude":35.68,"longitude":139.69,"priority":2}]}`)
	steerEndpoint(t, s, svc, "fra1", `{"pool":"fra","address":"127.0.0.17"}`)
	steerEndpoint(t, s, svc, "iad1", `{"pool":"iad","address":"127.0.0.18"}`)
	steerEndpoint(t, s, svc, "nrt1", `{"pool":"nrt","address":"127.0.0.19"}`)

	for _, c := range []struct{ subnet, addr, ecs string }{
		{"81.2.69.0/24", "127.0.0.17", "81.2.69.0/24/25"},               // London: Frankfurt, but not the half in the table: scope /25
		{"81.2.69.0/25", "127.0.0.17", "81.2.69.0/25/25"},               // the database's /24, narrowed by the table's /25
		{"81.2.69.142/32", "127.0.0.19", "81.2.69.142/32/25"},           // the table entry wins: Tokyo
		{"216.160.83.0/24", "127.0.0.18", "216.160.83.0/24/24"},         // Seattle: Ashburn
		{"2a02:ffc0::/48", "127.0.0.19", "2a02:ffc0::/48/32"},           // Osaka: Tokyo
		{"89.160.20.112/28", "127.0.0.17", "89.160.20.112/28/28"},       // Sweden, no coordinates: the EU continent
		{"89.160.20.120/32", "127.0.0.17", "89.160.20.120/32/28"},       // the same network
		{"2a02:ffc0:1234::/56", "127.0.0.19", "2a02:ffc0:1234::/56/32"}, // the same network
	} {
		status, answer, ecs := steerDigParse(t, steerDig(t, s, "+subnet="+c.subnet, svc, "A"))
		if status != "NOERROR" || len(answer) != 1 || !strings.HasSuffix(answer[0], "IN A "+c.addr) || ecs != c.ecs {
			t.Errorf("dig +subnet=%s: %s %q CLIENT-SUBNET %q; want A %s and CLIENT-SUBNET %s", c.subnet, status, answer, ecs, c.addr, c.ecs)
		}
	}
	// Without ECS the resolver (127.0.0.1) is in no table: priority order.
	if r := steerA(t, s, svc); r.addrs() != "127.0.0.18" || r.Scope != -1 {
		t.Errorf("without ECS: %s, want the priority-1 pool iad (127.0.0.18)", r)
	}
	x := steerExplain(t, s, svc, "subnet=81.2.69.0/24")
	loc := x.Location
	if !loc.Known || loc.Country != "GB" || loc.Continent != "EU" || loc.Latitude == nil || *loc.Latitude != 51.51 || x.Scope != 25 {
		t.Errorf("explain 81.2.69.0/24: location %+v scope %d", loc, x.Scope)
	}
	if !steerRemoved(x, "geo", "iad1", "farther") || !steerRemoved(x, "geo", "nrt1", "farther") {
		t.Errorf("explain 81.2.69.0/24: geo step %+v", x.Steps)
	}
}
