package geo

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
)

// TestTableAgainstBruteForce checks Table.Locate against a linear scan on
// random nested and overlapping prefixes, including the Prefix it reports:
// it holds the address, lies within the matched entry, touches no more
// specific entry (no entry at all, for a miss), and is the largest such
// network.
func TestTableAgainstBruteForce(t *testing.T) {
	for _, n := range []int{1, 5, 40, 600} {
		for _, space := range []addrSpace{narrow4, narrow6, wide6} {
			t.Run(fmt.Sprintf("n=%d/%s", n, space), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(n), 7))
				entries := randomEntries(rng, n, space)
				tab, err := NewTable(entries)
				if err != nil {
					t.Fatal(err)
				}
				for range 1000 {
					a := space.random(rng)
					checkLocate(t, tab, entries, a)
				}
				for _, e := range entries { // every boundary
					p := e.Prefix
					for _, a := range []netip.Addr{p.Addr(), p.Addr().Prev(), lastAddr(p), lastAddr(p).Next()} {
						if a.IsValid() {
							checkLocate(t, tab, entries, a)
						}
					}
				}
			})
		}
	}
}

func randomEntries(rng *rand.Rand, n int, space addrSpace) []Entry {
	seen := map[netip.Prefix]bool{}
	var entries []Entry
	for len(entries) < n {
		a := space.random(rng)
		width := a.BitLen()
		bits := width - 20 + rng.IntN(21)
		if space == wide6 {
			bits = 32 + rng.IntN(21)
		}
		if rng.IntN(50) == 0 {
			bits = rng.IntN(bits)
		}
		p, _ := a.Prefix(bits)
		if seen[p] {
			continue
		}
		seen[p] = true
		entries = append(entries, Entry{Prefix: p, Region: fmt.Sprint("r", len(entries))})
	}
	return entries
}

// addrSpace is where random test addresses come from; random prefixes
// made from them are 0 to 20 bits shorter than an address (and some much
// shorter), so they nest and overlap a lot.
type addrSpace string

const (
	narrow4 addrSpace = "10.0.0.0/12"
	narrow6 addrSpace = "2001:db8::/108"
	wide6   addrSpace = "2001:db8::/32" // varies in bits 32..52
)

func (s addrSpace) random(rng *rand.Rand) netip.Addr {
	r := rng.Uint32() & (1<<20 - 1)
	switch s {
	case narrow4:
		return netip.AddrFrom4([4]byte{10, byte(r >> 16), byte(r >> 8), byte(r)})
	case narrow6:
		b := netip.MustParseAddr("2001:db8::").As16()
		b[13], b[14], b[15] = byte(r>>16), byte(r>>8), byte(r)
		return netip.AddrFrom16(b)
	}
	b := netip.MustParseAddr("2001:db8::").As16()
	b[4], b[5], b[6] = byte(r>>12), byte(r>>4), byte(r<<4)
	for i := 7; i < 16; i++ {
		b[i] = byte(rng.Uint32())
	}
	return netip.AddrFrom16(b)
}

func checkLocate(t *testing.T, tab *Table, entries []Entry, a netip.Addr) {
	t.Helper()
	best := -1
	for i, e := range entries {
		if e.Prefix.Contains(a) && (best < 0 || e.Prefix.Bits() > entries[best].Prefix.Bits()) {
			best = i
		}
	}
	got := tab.Locate(a)
	minBits := 0
	if best < 0 {
		if got.Known {
			t.Fatalf("%s: Locate = %+v, want no match", a, got)
		}
	} else {
		if !got.Known || got.Region != entries[best].Region {
			t.Fatalf("%s: Locate = %+v, want entry %d %s", a, got, best, entries[best].Prefix)
		}
		minBits = entries[best].Prefix.Bits()
	}
	p := got.Prefix
	if !p.Contains(a) || p.Bits() < minBits {
		t.Fatalf("%s: Prefix %s does not hold the address within the match", a, p)
	}
	touches := func(p netip.Prefix) bool { // a more specific entry, or any for a miss
		for _, e := range entries {
			if e.Prefix.Overlaps(p) && (best < 0 || e.Prefix.Bits() > minBits) {
				return true
			}
		}
		return false
	}
	if touches(p) {
		t.Fatalf("%s: Prefix %s overlaps a more specific entry", a, p)
	}
	if p.Bits() > minBits {
		if parent, _ := a.Prefix(p.Bits() - 1); !touches(parent) {
			t.Fatalf("%s: Prefix %s is not the largest: %s would do", a, p, parent)
		}
	}
}

func TestPartitionMerges(t *testing.T) {
	k := func(v uint64) u128 { return u128{0, v} }
	spans := []span{
		{k(0), k(255), 1},
		{k(16), k(31), 2},
		{k(32), k(47), 2}, // adjacent, same value: merged
		{k(48), k(63), 1}, // the parent's value again: merged into it
		{k(128), k(255), 3},
	}
	starts, vals := partition(spans, k(255))
	wantStarts := []u128{k(0), k(16), k(48), k(128)}
	wantVals := []uint32{1, 2, 1, 3}
	if fmt.Sprint(starts) != fmt.Sprint(wantStarts) || fmt.Sprint(vals) != fmt.Sprint(wantVals) {
		t.Errorf("partition = %v %v, want %v %v", starts, vals, wantStarts, wantVals)
	}
}

// TestIndexUsed checks the first-level index is built where the tests
// above expect it, and that finds through it agree with a plain search.
func TestIndexUsed(t *testing.T) {
	for _, tt := range []struct {
		space addrSpace
		index bool
	}{{narrow4, true}, {narrow6, false}, {wide6, true}} {
		rng := rand.New(rand.NewPCG(1, 1))
		entries := randomEntries(rng, 3000, tt.space)
		if tt.space == narrow6 { // all segment starts share over 64 bits
			entries = slices.DeleteFunc(entries, func(e Entry) bool { return e.Prefix.Bits() < 72 })
		}
		tab, err := NewTable(entries)
		if err != nil {
			t.Fatal(err)
		}
		has := tab.v4.index != nil
		if tt.space != narrow4 {
			has = tab.v6.index != nil
		}
		if has != tt.index {
			t.Errorf("%s: index built = %v, want %v", tt.space, has, tt.index)
		}
		plain4, plain6 := tab.v4, tab.v6
		plain4.index, plain6.index = nil, nil
		for range 10000 {
			a := tt.space.random(rng)
			if a.Is4() {
				k := key4(a.As4())
				if got, want := tab.v4.find(k), plain4.find(k); got != want {
					t.Fatalf("%s: find = %d, plain search %d", a, got, want)
				}
			} else {
				k := key6(a.As16())
				if got, want := tab.v6.find(k), plain6.find(k); got != want {
					t.Fatalf("%s: find = %d, plain search %d", a, got, want)
				}
			}
		}
	}
}
