package geo

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"sync"
	"testing"
)

// benchDB is a synthetic City database of some 130,000 networks, written
// once per test binary.
var benchDB = sync.OnceValues(func() (*MaxMind, []netip.Addr) {
	m, hits, err := synthMaxMind(100_000, 30_000, 20_000)
	if err != nil {
		panic(err)
	}
	return m, hits
})

// benchAddrs mixes addresses inside networks with random ones, which
// mostly miss, half IPv4 and half IPv6.
func benchAddrs(hits []netip.Addr) []netip.Addr {
	rng := rand.New(rand.NewPCG(5, 6))
	addrs := make([]netip.Addr, 0, 4096)
	for i := range cap(addrs) {
		if i%2 == 0 && len(hits) > 0 {
			addrs = append(addrs, hits[rng.IntN(len(hits))])
			continue
		}
		if i%4 == 1 {
			addrs = append(addrs, netip.AddrFrom4([4]byte{byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32())}))
			continue
		}
		var b [16]byte
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		b[0] = 0x20 | b[0]&0x0f
		addrs = append(addrs, netip.AddrFrom16(b))
	}
	return addrs
}

// benchTable is an operator table of n entries, some nested.
func benchTable(b *testing.B, n int) (*Table, []netip.Addr) {
	rng := rand.New(rand.NewPCG(7, 8))
	var entries []Entry
	var hits []netip.Addr
	seen := map[netip.Prefix]bool{}
	for len(entries) < n {
		var p netip.Prefix
		if len(entries)%2 == 0 {
			a := netip.AddrFrom4([4]byte{byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32()), 0})
			p, _ = a.Prefix(8 + rng.IntN(17))
		} else {
			var b [16]byte
			for j := range 8 {
				b[j] = byte(rng.Uint32())
			}
			b[0] = 0x20 | b[0]&0x0f
			p, _ = netip.AddrFrom16(b).Prefix(20 + rng.IntN(37))
		}
		if seen[p] {
			continue
		}
		seen[p] = true
		entries = append(entries, Entry{Prefix: p, Region: fmt.Sprint("r", len(entries))})
		hits = append(hits, p.Addr())
	}
	t, err := NewTable(entries)
	if err != nil {
		b.Fatal(err)
	}
	return t, hits
}

func benchLocate(b *testing.B, l Locator, addrs []netip.Addr) {
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		_ = l.Locate(addrs[i&(len(addrs)-1)])
		i++
	}
}

func BenchmarkTableLocate(b *testing.B) {
	for _, n := range []int{10, 1000, 100_000} {
		b.Run(fmt.Sprint("entries=", n), func(b *testing.B) {
			t, hits := benchTable(b, n)
			benchLocate(b, t, benchAddrs(hits))
		})
	}
}

func BenchmarkMaxMindLocate(b *testing.B) {
	m, hits := benchDB()
	benchLocate(b, m, benchAddrs(hits))
}

func BenchmarkChainLocate(b *testing.B) {
	m, hits := benchDB()
	t, _ := benchTable(b, 1000)
	benchLocate(b, Chain{t, m}, benchAddrs(hits))
}

func BenchmarkDistance(b *testing.B) {
	b.ReportAllocs()
	lat := 50.1109
	for b.Loop() {
		_ = Distance(lat, 8.6821, 40.7128, -74.0060)
	}
}

func BenchmarkOpenMaxMind(b *testing.B) {
	path, _, err := synthDB(b.TempDir(), 100_000, 30_000, 20_000)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		m, err := OpenMaxMind(path)
		if err != nil {
			b.Fatal(err)
		}
		m.Close()
	}
}
