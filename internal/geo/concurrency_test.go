package geo

import (
	"net/netip"
	"sync"
	"testing"
)

// TestConcurrentLocate runs lookups from many goroutines at once (run it
// with -race), and Close while they run.
func TestConcurrentLocate(t *testing.T) {
	m, _ := openCity(t)
	tab, err := NewTable(testEntries)
	if err != nil {
		t.Fatal(err)
	}
	chain := Chain{tab, m}
	addrs := []netip.Addr{
		netip.MustParseAddr("81.2.69.142"),
		netip.MustParseAddr("10.1.2.3"),
		netip.MustParseAddr("2a02:ff80:1::5"),
		netip.MustParseAddr("2001:db8:1::1"),
		netip.MustParseAddr("203.0.113.1"),
	}
	want := make([]Location, len(addrs))
	for i, a := range addrs {
		want[i] = chain.Locate(a)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for n := range 2000 {
				i := (g + n) % len(addrs)
				if got := chain.Locate(addrs[i]); got != want[i] {
					t.Errorf("Locate(%s) = %+v, want %+v", addrs[i], got, want[i])
					return
				}
				tab.Locate(addrs[i])
				m.Locate(addrs[i])
			}
		})
	}
	wg.Wait()

	// Close races with lookups: each sees the tables or nothing.
	a := addrs[0]
	before := m.Locate(a)
	if before == (Location{}) {
		t.Fatalf("MaxMind does not locate %s", a)
	}
	started := make(chan struct{}, 4)
	for range 4 {
		wg.Go(func() {
			for n := range 2000 {
				if n == 10 {
					started <- struct{}{}
				}
				if got := m.Locate(a); got != before && got != (Location{}) {
					t.Errorf("Locate during Close = %+v", got)
					return
				}
			}
		})
	}
	for range 4 {
		<-started // every reader is running when Close comes
	}
	m.Close()
	wg.Wait()
}
