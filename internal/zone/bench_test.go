package zone_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/zone"
)

// bigNames is the size of the zone the benchmarks build: the size of the
// import benchmark (bench/import.sh).
const bigNames = 1_000_000

var bigOrigin = model.MustName("big.test.").Wire()

// bigOwner returns the wire name of the i-th name of the big zone.
func bigOwner(i int) []byte { return model.MustName(fmt.Sprintf("h%d.big.test.", i)).Wire() }

// buildBig builds a snapshot with one zone of n names besides the apex:
// h<i>.big.test. with one A record each, as bench/import.sh imports.
func buildBig(tb testing.TB, n int) *zone.Snapshot {
	b := zone.NewBuilder(zone.Empty())
	if err := b.CreateZone(bigOrigin, "big.test.", n+3); err != nil {
		tb.Fatal(err)
	}
	soa, err := model.ParseRdata(dns.TypeSOA, "ns1.big.test. hostmaster.big.test. 1 3600 600 1209600 60")
	if err != nil {
		tb.Fatal(err)
	}
	ns := model.MustName("ns1.big.test.").Wire()
	for _, s := range []struct {
		owner []byte
		t     uint16
		rd    []byte
	}{{bigOrigin, dns.TypeSOA, soa}, {bigOrigin, dns.TypeNS, ns}, {ns, dns.TypeA, []byte{192, 0, 2, 53}}} {
		if err := b.SetRRset(bigOrigin, s.owner, s.t, 300, [][]byte{s.rd}); err != nil {
			tb.Fatal(err)
		}
	}
	for i := range n {
		rd := []byte{10, byte(i >> 16), byte(i >> 8), byte(i)}
		if err := b.SetRRset(bigOrigin, bigOwner(i), dns.TypeA, 300, [][]byte{rd}); err != nil {
			tb.Fatal(err)
		}
	}
	return b.Build(1)
}

var (
	bigOnce sync.Once
	bigSnap *zone.Snapshot
)

// big returns a shared snapshot of the big zone.
func big(tb testing.TB) *zone.Snapshot {
	bigOnce.Do(func() { bigSnap = buildBig(tb, bigNames) })
	return bigSnap
}

// BenchmarkBuildMillion builds a zone of a million names from nothing, as
// the store load at start does, and reports the heap the snapshot keeps.
func BenchmarkBuildMillion(b *testing.B) {
	var before, after runtime.MemStats
	var s *zone.Snapshot
	for b.Loop() {
		s = nil
		runtime.GC()
		runtime.ReadMemStats(&before)
		s = buildBig(b, bigNames)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/bigNames, "heap-B/name")
	b.ReportMetric(float64(after.HeapObjects-before.HeapObjects)/bigNames, "objects/name")
	runtime.KeepAlive(s)
}

// BenchmarkLookupMillion looks up names in a zone of a million names.
func BenchmarkLookupMillion(b *testing.B) {
	s := big(b)
	for _, c := range []struct {
		name  string
		qname []byte
		qtype uint16
	}{
		{"positive", bigOwner(bigNames / 2), dns.TypeA},
		{"nodata", bigOwner(bigNames / 3), dns.TypeAAAA},
		{"nxdomain", model.MustName("nope.big.test.").Wire(), dns.TypeA},
		{"nxdomain-deep", model.MustName("a.b.h1.big.test.").Wire(), dns.TypeA},
	} {
		b.Run(c.name, func(b *testing.B) {
			var a zone.Answer
			for b.Loop() {
				s.Lookup(&a, c.qname, c.qtype)
			}
		})
	}
}

// BenchmarkLookupSpread looks up names spread over a zone of a million
// names, from a few names asked over and over (in the CPU caches) to a
// quarter of the zone (mostly not), as real traffic does.
func BenchmarkLookupSpread(b *testing.B) {
	s := big(b)
	for _, c := range []struct {
		name  string
		count int // a power of two
	}{{"hot-64", 64}, {"warm-4k", 4096}, {"cold-256k", 1 << 18}} {
		b.Run(c.name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			names := make([][]byte, c.count)
			for i := range names {
				names[i] = bigOwner(rng.IntN(bigNames))
			}
			var a zone.Answer
			i := 0
			for b.Loop() {
				s.Lookup(&a, names[i], dns.TypeA)
				i = (i + 1) & (c.count - 1)
			}
		})
	}
}

// BenchmarkChangeMillion makes the next snapshot of a zone of a million
// names with one RRset changed: the cost of a single-record edit.
func BenchmarkChangeMillion(b *testing.B) {
	s := big(b)
	for _, c := range []struct {
		name  string
		owner []byte
	}{
		{"existing", bigOwner(bigNames / 2)},
		{"new-name", model.MustName("new.big.test.").Wire()},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				nb := zone.NewBuilder(s)
				if err := nb.SetRRset(bigOrigin, c.owner, dns.TypeA, 60, [][]byte{{192, 0, 2, 1}}); err != nil {
					b.Fatal(err)
				}
				nb.Build(2)
			}
		})
	}
}
