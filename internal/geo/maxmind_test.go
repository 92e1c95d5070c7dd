package geo

import (
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
	"github.com/oschwald/maxminddb-golang/v2"
	"github.com/stratusdns/stratus/internal/geo/geotest"
)

var (
	london    = &[2]float64{51.5142, -0.0931}
	linkoping = &[2]float64{58.4167, 15.6167}
	milton    = &[2]float64{47.2513, -122.3149}
	tokyo     = &[2]float64{35.6854, 139.7531}
	frankfurt = &[2]float64{50.1109, 8.6821}
	paris     = &[2]float64{48.8566, 2.3522}
)

// cityNetworks is a small City-shaped database: IPv4 networks (which an
// IPv6 database keeps under ::/96) and IPv6 networks, one of them split by
// a more specific network inserted after it.
var cityNetworks = []geotest.Network{
	{Prefix: "81.2.69.0/24", Record: geotest.CityRecord("GB", "EU", london)},
	{Prefix: "89.160.20.112/28", Record: geotest.CityRecord("SE", "EU", linkoping)},
	{Prefix: "216.160.83.56/29", Record: geotest.CityRecord("US", "NA", milton)},
	{Prefix: "67.43.156.0/24", Record: geotest.CityRecord("BT", "AS", nil)},                                             // country only
	{Prefix: "1.0.0.0/24", Record: mmdbtype.Map{"registered_country": mmdbtype.Map{"iso_code": mmdbtype.String("AU")}}}, // nothing Stratus reads
	{Prefix: "2001:218::/32", Record: geotest.CityRecord("JP", "AS", tokyo)},
	{Prefix: "2a02:ff80::/32", Record: geotest.CityRecord("DE", "EU", frankfurt)},
	{Prefix: "2a02:ff80:1::/48", Record: geotest.CityRecord("FR", "EU", paris)},
}

func openCity(t testing.TB) (*MaxMind, string) {
	t.Helper()
	path := geotest.WriteDB(t, "GeoIP2-City", 6, cityNetworks)
	m, err := OpenMaxMind(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m, path
}

func coordsLoc(country, continent string, c *[2]float64, prefix string) Location {
	l := Location{Known: true, Country: country, Continent: continent, Prefix: netip.MustParsePrefix(prefix)}
	if c != nil {
		l.Lat, l.Lon, l.HasCoords = c[0], c[1], true
	}
	return l
}

func TestMaxMindLocate(t *testing.T) {
	m, _ := openCity(t)
	if got := m.Networks(); got != 23 {
		// 5 IPv4 networks; 2001:218::/32; 2a02:ff80:1::/48 and the rest of
		// 2a02:ff80::/32 around it: one network of each length 33..48.
		t.Errorf("Networks() = %d, want 23", got)
	}
	tests := []struct {
		addr string
		want Location
	}{
		{"81.2.69.142", coordsLoc("GB", "EU", london, "81.2.69.0/24")},
		{"81.2.69.0", coordsLoc("GB", "EU", london, "81.2.69.0/24")},
		{"81.2.69.255", coordsLoc("GB", "EU", london, "81.2.69.0/24")},
		{"::ffff:81.2.69.142", coordsLoc("GB", "EU", london, "81.2.69.0/24")},
		{"89.160.20.120", coordsLoc("SE", "EU", linkoping, "89.160.20.112/28")},
		{"216.160.83.63", coordsLoc("US", "NA", milton, "216.160.83.56/29")},
		{"67.43.156.1", coordsLoc("BT", "AS", nil, "67.43.156.0/24")},
		{"2001:218::1", coordsLoc("JP", "AS", tokyo, "2001:218::/32")},
		{"2001:218:ffff:ffff:ffff:ffff:ffff:ffff", coordsLoc("JP", "AS", tokyo, "2001:218::/32")},
		{"2a02:ff80::1", coordsLoc("DE", "EU", frankfurt, "2a02:ff80::/48")},
		{"2a02:ff80:1::5", coordsLoc("FR", "EU", paris, "2a02:ff80:1::/48")},
		{"2a02:ff80:2::1", coordsLoc("DE", "EU", frankfurt, "2a02:ff80:2::/47")},
		{"2a02:ff80:8000::1", coordsLoc("DE", "EU", frankfurt, "2a02:ff80:8000::/33")},
		{"fe80::1%eth0", Location{}},
		// No data: unknown, with the largest network around the address
		// that has no data (mmdbwriter leaves reserved networks empty).
		{"81.2.70.1", Location{Prefix: netip.MustParsePrefix("81.2.70.0/23")}},
		// 1.0.0.0/24 has a record, but nothing in it that Stratus reads.
		{"1.0.0.1", Location{Prefix: netip.MustParsePrefix("0.0.0.0/2")}},
		{"2001:219::1", Location{Prefix: netip.MustParsePrefix("2001:219::/32")}},
		{"2a02:ff81::1", Location{Prefix: netip.MustParsePrefix("2a02:ff81::/32")}},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			got := m.Locate(netip.MustParseAddr(tt.addr))
			if tt.addr == "fe80::1%eth0" {
				if got.Known || got.Prefix.Addr().Zone() != "" {
					t.Errorf("Locate = %+v, want unknown without a zone", got)
				}
				return
			}
			if got != tt.want {
				t.Errorf("Locate =\n %+v, want\n %+v", got, tt.want)
			}
		})
	}
	if got := m.Locate(netip.Addr{}); got != (Location{}) {
		t.Errorf("Locate(invalid) = %+v", got)
	}
}

// TestMaxMindMatchesReader compares every answer with the reference reader's
// for addresses at and around every network boundary and random ones.
func TestMaxMindMatchesReader(t *testing.T) {
	m, path := openCity(t)
	db, err := maxminddb.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var addrs []netip.Addr
	for res := range db.Networks(maxminddb.IncludeNetworksWithoutData()) {
		p := res.Prefix()
		first := p.Addr()
		last := lastAddr(p)
		addrs = append(addrs, first, first.Prev(), last, last.Next())
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		var b4 [4]byte
		var b16 [16]byte
		for i := range b4 {
			b4[i] = byte(rng.UintN(256))
		}
		for i := range b16 {
			b16[i] = byte(rng.UintN(256))
		}
		b16[0], b16[1] = 0x2a, 0x02 // near the test networks
		addrs = append(addrs, netip.AddrFrom4(b4), netip.AddrFrom16(b16))
	}
	for _, a := range addrs {
		if !a.IsValid() || a.Is6() && a.As16()[0] == 0 && !a.Is4In6() {
			continue // ::/8 is MaxMind's IPv4 subtree and its neighbours
		}
		res := db.Lookup(a)
		var r mmRecord
		if err := res.Decode(&r); err != nil {
			t.Fatal(err)
		}
		got := m.Locate(a)
		known := r.Country.ISOCode != "" || r.Continent.Code != "" || r.Location.Latitude != nil
		if got.Known != known || got.Country != r.Country.ISOCode || got.Continent != r.Continent.Code {
			t.Errorf("%s: Locate = %+v, reader %+v", a, got, r)
			continue
		}
		if lat := r.Location.Latitude; lat != nil && (!got.HasCoords || got.Lat != *lat || got.Lon != *r.Location.Longitude) {
			t.Errorf("%s: Locate = %+v, reader %v %v", a, got, *lat, *r.Location.Longitude)
		}
		if known && got.Prefix != res.Prefix() {
			t.Errorf("%s: Prefix %s, reader %s", a, got.Prefix, res.Prefix())
		}
		if !got.Prefix.Contains(a.Unmap()) {
			t.Errorf("%s: Prefix %s does not contain the address", a, got.Prefix)
		}
	}
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 1 << (7 - i%8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

func TestMaxMindIPv4AndCountryDatabases(t *testing.T) {
	path := geotest.WriteDB(t, "GeoLite2-Country", 4, []geotest.Network{
		{Prefix: "81.2.69.0/24", Record: geotest.CityRecord("GB", "EU", nil)},
		{Prefix: "81.2.70.0/24", Record: geotest.CityRecord("", "EU", nil)},
	})
	m, err := OpenMaxMind(path)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	tests := []struct {
		addr string
		want Location
	}{
		{"81.2.69.1", Location{Known: true, Country: "GB", Continent: "EU", Prefix: netip.MustParsePrefix("81.2.69.0/24")}},
		{"81.2.70.1", Location{Known: true, Continent: "EU", Prefix: netip.MustParsePrefix("81.2.70.0/24")}},
		{"2a02:ff80::1", Location{Prefix: netip.MustParsePrefix("::/0")}},
	}
	for _, tt := range tests {
		if got := m.Locate(netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("Locate(%s) = %+v, want %+v", tt.addr, got, tt.want)
		}
	}
	if m.Networks() != 2 {
		t.Errorf("Networks() = %d, want 2", m.Networks())
	}
}

func TestMaxMindClose(t *testing.T) {
	m, _ := openCity(t)
	a := netip.MustParseAddr("81.2.69.142")
	if !m.Locate(a).Known {
		t.Fatal("not known before Close")
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if got := m.Locate(a); got != (Location{}) {
		t.Errorf("Locate after Close = %+v", got)
	}
	var nilDB *MaxMind
	if got := nilDB.Locate(a); got != (Location{}) {
		t.Errorf("nil Locate = %+v", got)
	}
}

func TestOpenMaxMindErrors(t *testing.T) {
	garbage := filepath.Join(t.TempDir(), "garbage.mmdb")
	if err := os.WriteFile(garbage, []byte("not a database"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, want string
	}{
		{"missing", filepath.Join(t.TempDir(), "missing.mmdb"), "no such file"},
		{"garbage", garbage, "geo:"},
		{"asn", geotest.WriteDB(t, "GeoLite2-ASN", 6, []geotest.Network{
			{Prefix: "81.2.69.0/24", Record: mmdbtype.Map{"autonomous_system_number": mmdbtype.Uint32(20712)}},
		}), "not a City or Country database"},
		{"bad country", geotest.WriteDB(t, "Custom", 6, []geotest.Network{
			{Prefix: "81.2.69.0/24", Record: geotest.CityRecord("GBR", "EU", nil)},
		}), `network 81.2.69.0/24: country "GBR"`},
		{"bad continent", geotest.WriteDB(t, "Custom", 6, []geotest.Network{
			{Prefix: "2001:218::/32", Record: geotest.CityRecord("JP", "XX", nil)},
		}), `network 2001:218::/32: continent "XX"`},
		{"bad latitude", geotest.WriteDB(t, "Custom", 6, []geotest.Network{
			{Prefix: "81.2.69.0/24", Record: geotest.CityRecord("GB", "EU", &[2]float64{91, 0})},
		}), "latitude 91"},
		{"wrong type", geotest.WriteDB(t, "Custom", 6, []geotest.Network{
			{Prefix: "81.2.69.0/24", Record: mmdbtype.Map{"country": mmdbtype.Map{"iso_code": mmdbtype.Uint32(1)}}},
		}), "network 81.2.69.0/24"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := OpenMaxMind(tt.path)
			if err == nil {
				m.Close()
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestMaxMindLowerCaseCodes(t *testing.T) {
	path := geotest.WriteDB(t, "Custom", 6, []geotest.Network{{Prefix: "81.2.69.0/24", Record: geotest.CityRecord("gb", "eu", london)}})
	m, err := OpenMaxMind(path)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if got := m.Locate(netip.MustParseAddr("81.2.69.1")); got.Country != "GB" || got.Continent != "EU" {
		t.Errorf("Locate = %+v, want GB EU", got)
	}
}

// TestMaxMindNetworkAboveIPv4Subtree: in an IPv6 database without IPv4
// aliases, a network such as ::/8 holds the IPv4 subtree (::/96), so all
// of IPv4 is in it.
func TestMaxMindNetworkAboveIPv4Subtree(t *testing.T) {
	tree, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType:            "Custom",
		DisableIPv4Aliasing:     true,
		IncludeReservedNetworks: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := tree.Insert(geotest.PrefixNet(netip.MustParsePrefix("::/8")), geotest.CityRecord("DE", "EU", frankfurt)); err != nil {
		t.Fatal(err)
	}
	if err := tree.Insert(geotest.PrefixNet(netip.MustParsePrefix("2001:218::/32")), geotest.CityRecord("JP", "AS", tokyo)); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "custom.mmdb")
	if err := geotest.WriteTree(tree, path); err != nil {
		t.Fatal(err)
	}
	m, err := OpenMaxMind(path)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	tests := []struct {
		addr string
		want Location
	}{
		{"81.2.69.142", coordsLoc("DE", "EU", frankfurt, "0.0.0.0/0")},
		{"::ffff:81.2.69.142", coordsLoc("DE", "EU", frankfurt, "0.0.0.0/0")},
		{"::1", coordsLoc("DE", "EU", frankfurt, "::/8")},
		{"2001:218::1", coordsLoc("JP", "AS", tokyo, "2001:218::/32")},
	}
	for _, tt := range tests {
		if got := m.Locate(netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("Locate(%s) = %+v, want %+v", tt.addr, got, tt.want)
		}
	}
}
