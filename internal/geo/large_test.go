package geo

import (
	"math/rand/v2"
	"net/netip"
	"os"
	"runtime"
	"testing"
	"time"
	"unsafe"
)

const sizeofLoc = unsafe.Sizeof(mmLoc{})

// TestLargeMaxMind loads a database of GeoLite2-City size and reports load
// time, memory and lookup speed. It is slow (the synthetic database takes a
// minute or so to write), so it runs only when asked:
//
//	STRATUS_GEO_LARGE=1 go test -run LargeMaxMind -v ./internal/geo
//	STRATUS_GEO_MMDB=/path/GeoLite2-City.mmdb go test -run LargeMaxMind -v ./internal/geo
func TestLargeMaxMind(t *testing.T) {
	path := os.Getenv("STRATUS_GEO_MMDB")
	if path == "" {
		if os.Getenv("STRATUS_GEO_LARGE") == "" {
			t.Skip("set STRATUS_GEO_LARGE=1 or STRATUS_GEO_MMDB=file")
		}
		start := time.Now()
		// GeoLite2-City has about 3.5 million IPv4 and a million IPv6
		// networks.
		var err error
		if path, _, err = synthDB(t.TempDir(), 3_600_000, 1_200_000, 250_000); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote the synthetic database in %v", time.Since(start).Round(time.Millisecond))
	}
	if fi, err := os.Stat(path); err == nil {
		t.Logf("%s: %.1f MiB", path, float64(fi.Size())/(1<<20))
	}
	before := heapInUse()
	start := time.Now()
	m, err := OpenMaxMind(path)
	if err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	after := heapInUse()
	d := m.data.Load()
	t.Logf("OpenMaxMind: %v; %d networks -> %d IPv4 + %d IPv6 segments, %d distinct locations",
		elapsed.Round(time.Millisecond), m.Networks(), len(d.v4.segs), len(d.v6.segs), len(d.locs))
	t.Logf("memory: tables %.1f MiB (IPv4 %.1f, IPv6 %.1f), locations %.1f MiB; live heap grew by %.1f MiB",
		mib(d.v4.bytes()+d.v6.bytes()), mib(d.v4.bytes()), mib(d.v6.bytes()),
		mib(len(d.locs)*int(sizeofLoc)), mib(int(after-before)))

	rng := rand.New(rand.NewPCG(3, 4))
	v4 := make([]netip.Addr, 1<<20)
	v6 := make([]netip.Addr, 1<<20)
	for i := range v4 {
		v4[i] = netip.AddrFrom4([4]byte{byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32())})
		var b [16]byte
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		b[0] = 0x20 | b[0]&0x0f // 2000::/4
		v6[i] = netip.AddrFrom16(b)
	}
	for _, set := range []struct {
		name  string
		addrs []netip.Addr
	}{
		{"random IPv4 (cache-cold)", v4},
		{"random IPv6 (cache-cold)", v6},
		{"1024 IPv4 addresses (cache-warm)", v4[:1024]},
		{"1024 IPv6 addresses (cache-warm)", v6[:1024]},
	} {
		known := 0
		start := time.Now()
		for range (1 << 20) / len(set.addrs) {
			for _, a := range set.addrs {
				if m.Locate(a).Known {
					known++
				}
			}
		}
		t.Logf("Locate, %s: %v each, %.0f%% known", set.name, time.Since(start)/(1<<20), 100*float64(known)/(1<<20))
	}
	runtime.KeepAlive(m)
}

func heapInUse() uint64 {
	for range 3 { // and let the reader's cleanups run
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

func mib(n int) float64 { return float64(n) / (1 << 20) }
