package geo

import (
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strconv"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
	"github.com/stratusdns/stratus/internal/geo/geotest"
)

// identityKeys keys records by map identity: the pool's records are
// distinct maps, so no need to hash each of millions of inserts.
type identityKeys struct{}

func (identityKeys) Key(v mmdbtype.DataType) ([]byte, error) {
	return strconv.AppendUint(nil, uint64(reflect.ValueOf(v).Pointer()), 16), nil
}

// synthDB writes a City-shaped database with about n4 IPv4 and n6 IPv6
// networks of realistic lengths (IPv4 mostly /20 to /28, IPv6 /29 to /64)
// drawn from records distinct records, and returns its path and addresses
// inside networks. Random networks overlap, and a later one replaces the
// part of an earlier one it covers, so the counts are approximate.
func synthDB(dir string, n4, n6, records int) (path string, hits []netip.Addr, err error) {
	rng := rand.New(rand.NewPCG(42, uint64(n4)))
	continentOf := []string{"AF", "AN", "AS", "EU", "NA", "OC", "SA"}
	pool := make([]mmdbtype.Map, records)
	for i := range pool {
		country := string([]byte{byte('A' + rng.IntN(26)), byte('A' + rng.IntN(26))})
		coords := &[2]float64{rng.Float64()*180 - 90, rng.Float64()*360 - 180}
		if i%10 == 0 {
			coords = nil // a country-level record
		}
		pool[i] = geotest.CityRecord(country, continentOf[rng.IntN(len(continentOf))], coords)
	}
	tree, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType: "GeoIP2-City",
		RecordSize:   28,
		KeyGenerator: identityKeys{},
	})
	if err != nil {
		return "", nil, err
	}
	insert := func(p netip.Prefix) {
		err := tree.Insert(geotest.PrefixNet(p), pool[rng.IntN(records)])
		if err != nil {
			return // a reserved network: skip it
		}
		if len(hits) < 1<<16 {
			hits = append(hits, p.Addr())
		}
	}
	for range n4 {
		a := netip.AddrFrom4([4]byte{byte(1 + rng.IntN(223)), byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32())})
		p, _ := a.Prefix(20 + rng.IntN(9))
		insert(p)
	}
	for range n6 {
		var b [16]byte
		for i := range 8 {
			b[i] = byte(rng.Uint32())
		}
		b[0] = 0x20 | b[0]&0x0f // 2000::/4
		p, _ := netip.AddrFrom16(b).Prefix(29 + rng.IntN(36))
		insert(p)
	}
	path = filepath.Join(dir, "synthetic-city.mmdb")
	if err := geotest.WriteTree(tree, path); err != nil {
		return "", nil, err
	}
	rng.Shuffle(len(hits), func(i, j int) { hits[i], hits[j] = hits[j], hits[i] })
	return path, hits, nil
}

// synthMaxMind loads a synthetic database (see synthDB) and removes the
// file.
func synthMaxMind(n4, n6, records int) (*MaxMind, []netip.Addr, error) {
	dir, err := os.MkdirTemp("", "geo-synth-")
	if err != nil {
		return nil, nil, err
	}
	defer os.RemoveAll(dir)
	path, hits, err := synthDB(dir, n4, n6, records)
	if err != nil {
		return nil, nil, err
	}
	m, err := OpenMaxMind(path)
	return m, hits, err
}
