package geo

import (
	"net/netip"
	"testing"
)

// TestLocateAllocatesNothing: Locate is on the DNS query path.
func TestLocateAllocatesNothing(t *testing.T) {
	m, _ := openCity(t)
	tab, err := NewTable(testEntries)
	if err != nil {
		t.Fatal(err)
	}
	addrs := []netip.Addr{
		netip.MustParseAddr("81.2.69.142"),        // MaxMind hit
		netip.MustParseAddr("10.1.2.3"),           // table hit
		netip.MustParseAddr("::ffff:10.1.2.3"),    // mapped
		netip.MustParseAddr("2a02:ff80:1::5"),     // v6 hit
		netip.MustParseAddr("2001:db8:1::1%eth0"), // zone
		netip.MustParseAddr("2001:db9::1"),        // miss
		{},                                        // invalid
	}
	locators := []struct {
		name string
		l    Locator
	}{
		{"Table", tab},
		{"MaxMind", m},
		{"Chain", Chain{tab, m}},
	}
	for _, lc := range locators {
		for _, a := range addrs {
			var sink Location
			if n := testing.AllocsPerRun(100, func() { sink = lc.l.Locate(a) }); n != 0 {
				t.Errorf("%s.Locate(%s): %v allocations", lc.name, a, n)
			}
			_ = sink
		}
	}
	if n := testing.AllocsPerRun(100, func() { _ = Distance(50.1, 8.7, 40.7, -74) }); n != 0 {
		t.Errorf("Distance: %v allocations", n)
	}
}
