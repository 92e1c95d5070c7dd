package geo

import (
	"net/netip"
	"testing"
)

// fixed is a Locator with one answer for every address.
type fixed Location

func (f fixed) Locate(netip.Addr) Location { return Location(f) }

func TestChain(t *testing.T) {
	m, _ := openCity(t)
	tab, err := NewTable([]Entry{
		{Prefix: pfx("81.2.69.128/25"), Region: "uk-south", Country: "GB"},
		{Prefix: pfx("2001:218:1::/48"), Region: "jp-east"},
		{Prefix: pfx("192.0.2.0/24"), Region: "lab"},
	})
	if err != nil {
		t.Fatal(err)
	}
	chain := Chain{tab, m}
	gb := coordsLoc("GB", "EU", london, "81.2.69.0/25")
	tests := []struct {
		name  string
		chain Chain
		addr  string
		want  Location
	}{
		{"table overrides MaxMind", chain, "81.2.69.200",
			Location{Known: true, Region: "uk-south", Country: "GB", Prefix: pfx("81.2.69.128/25")}},
		{"table only", chain, "192.0.2.1", Location{Known: true, Region: "lab", Prefix: pfx("192.0.2.0/24")}},
		// MaxMind's 81.2.69.0/24 narrowed to where the table has no answer.
		{"MaxMind when the table misses", chain, "81.2.69.1", gb},
		{"MaxMind v6", chain, "2001:218:2::1", coordsLoc("JP", "AS", tokyo, "2001:218:2::/47")},
		{"table v6", chain, "2001:218:1::1", Location{Known: true, Region: "jp-east", Prefix: pfx("2001:218:1::/48")}},
		{"MaxMind's narrower prefix kept", Chain{tab, m}, "89.160.20.120", coordsLoc("SE", "EU", linkoping, "89.160.20.112/28")},
		{"both miss: the narrower miss", chain, "81.2.70.1", Location{Prefix: pfx("81.2.70.0/23")}},
		{"MaxMind first", Chain{m, tab}, "81.2.69.200", coordsLoc("GB", "EU", london, "81.2.69.0/24")},
		{"unscoped locator", Chain{tab, fixed{Known: true, Region: "x"}}, "81.2.69.1",
			Location{Known: true, Region: "x", Prefix: pfx("81.2.69.0/25")}},
		{"unknown locator without prefix", Chain{fixed{}, m}, "81.2.69.1", coordsLoc("GB", "EU", london, "81.2.69.0/24")},
		{"empty chain", Chain{}, "81.2.69.1", Location{}},
		{"nil chain", nil, "81.2.69.1", Location{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.chain.Locate(netip.MustParseAddr(tt.addr)); got != tt.want {
				t.Errorf("Locate(%s) =\n %+v, want\n %+v", tt.addr, got, tt.want)
			}
		})
	}
}
