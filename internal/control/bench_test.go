package control

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/store/bolt"
)

// bigZone returns the sets of a zone with n A records.
func bigZone(b testing.TB, z model.Name, n int) []*model.RRset {
	soa, _ := model.ParseRdata(model.TypeSOA, "ns1."+string(z)+" hostmaster."+string(z)+" 1 3600 600 1209600 60")
	ns, _ := model.ParseRdata(model.TypeNS, "ns1."+string(z))
	sets := []*model.RRset{
		{Name: z, Type: model.TypeSOA, TTL: 300, Rdata: [][]byte{soa}},
		{Name: z, Type: model.TypeNS, TTL: 300, Rdata: [][]byte{ns}},
	}
	for i := range n {
		sets = append(sets, &model.RRset{Name: model.Name(fmt.Sprintf("h%d.%s", i, z)), Type: model.TypeA, TTL: 300,
			Rdata: [][]byte{{10, byte(i >> 16), byte(i >> 8), byte(i)}}})
	}
	return sets
}

// BenchmarkImportAndLoad measures importing a 100,000-record zone in one
// transaction (loading the store into a snapshot at start is measured in
// internal/publish).
func BenchmarkImportAndLoad(b *testing.B) {
	const n = 100000
	z := model.MustName("big.test.")
	sets := bigZone(b, z, n)
	b.Run("import", func(b *testing.B) {
		for b.Loop() {
			st, err := bolt.Open(filepath.Join(b.TempDir(), "s.db"), bolt.Options{})
			if err != nil {
				b.Fatal(err)
			}
			svc := New(st, nil, Options{})
			if _, err := svc.Zones.Import(context.Background(), z, sets, ImportOptions{Mode: ImportCreate}); err != nil {
				b.Fatal(err)
			}
			st.Close()
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	})
}
