package geo

import (
	"errors"
	"math"
	"net/netip"
	"strings"
	"testing"
)

func f(v float64) *float64 { return &v }

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }

// testEntries overlap: 10/8 holds 10.1/16, which holds 10.1.2/24; the
// IPv6 ones nest the same way.
var testEntries = []Entry{
	{Prefix: pfx("10.0.0.0/8"), Region: "eu-west", Country: "IE", Continent: "EU", Lat: f(53.35), Lon: f(-6.26)},
	{Prefix: pfx("10.1.0.0/16"), Region: "eu-central", Country: "de", Continent: "eu"},
	{Prefix: pfx("10.1.2.0/24"), Region: "us-east"},
	{Prefix: pfx("192.0.2.7/32"), Country: "JP"},
	{Prefix: pfx("0.0.0.0/0"), Region: "default-v4"},
	{Prefix: pfx("2001:db8::/32"), Region: "ap-south", Continent: "AS"},
	{Prefix: pfx("2001:db8:1::/48"), Region: "sa-east", Continent: "SA", Lat: f(-23.55), Lon: f(-46.63)},
	{Prefix: pfx("::ffff:172.16.0.0/108"), Region: "mapped"}, // = 172.16.0.0/12
}

func TestTableLocate(t *testing.T) {
	tab, err := NewTable(testEntries)
	if err != nil {
		t.Fatal(err)
	}
	if tab.Len() != len(testEntries) {
		t.Errorf("Len() = %d", tab.Len())
	}
	ieCoords := Location{Known: true, Region: "eu-west", Country: "IE", Continent: "EU", Lat: 53.35, Lon: -6.26, HasCoords: true}
	at := func(l Location, p string) Location { l.Prefix = pfx(p); return l }
	de := Location{Known: true, Region: "eu-central", Country: "DE", Continent: "EU"}
	use := Location{Known: true, Region: "us-east"}
	def := Location{Known: true, Region: "default-v4"}
	ap := Location{Known: true, Region: "ap-south", Continent: "AS"}
	sa := Location{Known: true, Region: "sa-east", Continent: "SA", Lat: -23.55, Lon: -46.63, HasCoords: true}
	tests := []struct {
		name, addr string
		want       Location
	}{
		{"v4 longest /24", "10.1.2.3", at(use, "10.1.2.0/24")},
		{"v4 /16 around the /24", "10.1.3.1", at(de, "10.1.3.0/24")},
		{"v4 /16 far from the /24", "10.1.200.1", at(de, "10.1.128.0/17")},
		{"v4 /16 first address", "10.1.0.0", at(de, "10.1.0.0/23")},
		{"v4 /8 beside the /16", "10.0.0.1", at(ieCoords, "10.0.0.0/16")},
		{"v4 /8 after the /16", "10.2.3.4", at(ieCoords, "10.2.0.0/15")},
		{"v4 /8 high half", "10.200.0.1", at(ieCoords, "10.128.0.0/9")},
		{"v4 /32", "192.0.2.7", at(Location{Known: true, Country: "JP"}, "192.0.2.7/32")},
		{"v4 beside /32", "192.0.2.6", at(def, "192.0.2.6/32")},
		{"v4 default", "8.8.8.8", at(def, "8.0.0.0/7")}, // 8.0.0.0/5 would hold 10/8
		{"v4 default high", "255.255.255.255", at(def, "224.0.0.0/3")},
		{"mapped v4", "::ffff:10.1.2.3", at(use, "10.1.2.0/24")},
		{"mapped v4 default", "::ffff:8.8.8.8", at(def, "8.0.0.0/7")},
		{"mapped v4 prefix entry", "172.20.1.1", at(Location{Known: true, Region: "mapped"}, "172.16.0.0/12")},
		{"v6 /48", "2001:db8:1::1", at(sa, "2001:db8:1::/48")},
		{"v6 /32 around /48", "2001:db8::1", at(ap, "2001:db8::/48")},
		{"v6 /32 far from /48", "2001:db8:ffff::1", at(ap, "2001:db8:8000::/33")},
		{"v6 zone ignored", "2001:db8:1::1%eth0", at(sa, "2001:db8:1::/48")},
		{"v6 no match", "2001:db9::1", Location{Prefix: pfx("2001:db9::/32")}},
		{"v6 no match far", "fe80::1", Location{Prefix: pfx("8000::/1")}},
		{"v6 no match low", "::1", Location{Prefix: pfx("::/3")}},
		{"invalid address", "", Location{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a netip.Addr
			if tt.addr != "" {
				a = netip.MustParseAddr(tt.addr)
			}
			got := tab.Locate(a)
			if got != tt.want {
				t.Errorf("Locate(%s) =\n %+v, want\n %+v", tt.addr, got, tt.want)
			}
		})
	}
}

func TestTableNoV4Default(t *testing.T) {
	tab, err := NewTable([]Entry{
		{Prefix: pfx("10.0.0.0/8"), Region: "a"},
		{Prefix: pfx("::/0"), Region: "all-v6"},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		addr string
		want Location
	}{
		{"9.255.255.255", Location{Prefix: pfx("8.0.0.0/7")}},
		{"11.0.0.0", Location{Prefix: pfx("11.0.0.0/8")}},
		{"0.0.0.0", Location{Prefix: pfx("0.0.0.0/5")}},
		{"::ffff:11.1.1.1", Location{Prefix: pfx("11.0.0.0/8")}}, // ::/0 never matches IPv4
		{"2001:db8::1", Location{Known: true, Region: "all-v6", Prefix: pfx("::/0")}},
	}
	for _, tt := range tests {
		if got := tab.Locate(netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("Locate(%s) = %+v, want %+v", tt.addr, got, tt.want)
		}
	}
}

func TestTableEmptyAndNil(t *testing.T) {
	tab, err := NewTable(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := tab.Locate(netip.MustParseAddr("192.0.2.1")); got != (Location{Prefix: pfx("0.0.0.0/0")}) {
		t.Errorf("empty table: %+v", got)
	}
	if got := tab.Locate(netip.MustParseAddr("2001:db8::1")); got != (Location{Prefix: pfx("::/0")}) {
		t.Errorf("empty table: %+v", got)
	}
	var nilTab *Table
	if got := nilTab.Locate(netip.MustParseAddr("192.0.2.1")); got != (Location{}) {
		t.Errorf("nil table: %+v", got)
	}
	if got := new(Table).Locate(netip.MustParseAddr("192.0.2.1")); got != (Location{}) {
		t.Errorf("zero table: %+v", got)
	}
}

func TestNewTableErrors(t *testing.T) {
	tests := []struct {
		name  string
		entry Entry
		want  string
	}{
		{"host bits", Entry{Prefix: pfx("10.1.2.3/8"), Region: "a"}, "entry 1 (10.1.2.3/8): host bits are set: the network is 10.0.0.0/8"},
		{"host bits v6", Entry{Prefix: pfx("2001:db8::1/32"), Region: "a"}, "entry 1 (2001:db8::1/32): host bits are set: the network is 2001:db8::/32"},
		{"no prefix", Entry{Region: "a"}, "entry 1: no valid prefix"},
		{"no location", Entry{Prefix: pfx("10.0.0.0/8")}, "entry 1 (10.0.0.0/8): no location"},
		{"country long", Entry{Prefix: pfx("10.0.0.0/8"), Country: "DEU"}, `entry 1 (10.0.0.0/8): country "DEU" is not an ISO 3166-1 alpha-2 code`},
		{"country digits", Entry{Prefix: pfx("10.0.0.0/8"), Country: "D1"}, `country "D1"`},
		{"continent", Entry{Prefix: pfx("10.0.0.0/8"), Continent: "EUR"}, `continent "EUR" is not one of AF AN AS EU NA OC SA`},
		{"continent unknown", Entry{Prefix: pfx("10.0.0.0/8"), Continent: "XX"}, `continent "XX"`},
		{"lat only", Entry{Prefix: pfx("10.0.0.0/8"), Lat: f(1)}, "give both latitude and longitude"},
		{"lon only", Entry{Prefix: pfx("10.0.0.0/8"), Lon: f(1)}, "give both latitude and longitude"},
		{"lat range", Entry{Prefix: pfx("10.0.0.0/8"), Lat: f(90.5), Lon: f(0)}, "latitude 90.5 is outside -90..90"},
		{"lon range", Entry{Prefix: pfx("10.0.0.0/8"), Lat: f(0), Lon: f(-180.1)}, "longitude -180.1 is outside -180..180"},
		{"lat NaN", Entry{Prefix: pfx("10.0.0.0/8"), Lat: f(math.NaN()), Lon: f(0)}, "latitude NaN"},
		{"duplicate", Entry{Prefix: pfx("192.0.2.0/24"), Region: "b"}, "entry 1 (192.0.2.0/24): same prefix as entry 0"},
		{"duplicate mapped", Entry{Prefix: pfx("::ffff:192.0.2.0/120"), Region: "b"}, "entry 1 (::ffff:192.0.2.0/120): same prefix as entry 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewTable([]Entry{{Prefix: pfx("192.0.2.0/24"), Region: "a"}, tt.entry})
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestNewTableReportsEveryError(t *testing.T) {
	_, err := NewTable([]Entry{
		{Prefix: pfx("10.1.2.3/8"), Region: "a"},
		{Prefix: pfx("10.0.0.0/8"), Region: "a"},
		{Prefix: pfx("10.0.0.0/16"), Country: "XYZ"},
	})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"entry 0 (10.1.2.3/8)", "entry 2 (10.0.0.0/16)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	var ee *EntryError
	if !errors.As(err, &ee) || ee.Index != 0 || ee.Prefix != pfx("10.1.2.3/8") {
		t.Errorf("errors.As(%v) = %+v", err, ee)
	}
}

func TestNewTableBoundaryCoords(t *testing.T) {
	_, err := NewTable([]Entry{
		{Prefix: pfx("10.0.0.0/8"), Lat: f(-90), Lon: f(180)},
		{Prefix: pfx("11.0.0.0/8"), Lat: f(90), Lon: f(-180)},
		{Prefix: pfx("12.0.0.0/8"), Country: "xk"}, // user-assigned, used for Kosovo
	})
	if err != nil {
		t.Fatal(err)
	}
}
