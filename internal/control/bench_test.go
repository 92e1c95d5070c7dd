package control_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/control/controltest"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/store/bolt"
)

// BenchmarkImportAndLoad measures importing a 100,000-record zone in one
// transaction (loading the store into a snapshot at start is measured in
// internal/publish).
func BenchmarkImportAndLoad(b *testing.B) {
	const n = 100000
	z := model.MustName("big.test.")
	sets := controltest.BigZone(b, z, n)
	b.Run("import", func(b *testing.B) {
		for b.Loop() {
			st, err := bolt.Open(filepath.Join(b.TempDir(), "s.db"), bolt.Options{})
			if err != nil {
				b.Fatal(err)
			}
			svc := control.New(st, nil, control.Options{})
			if _, err := svc.Zones.Import(context.Background(), z, sets, control.ImportOptions{Mode: control.ImportCreate}); err != nil {
				b.Fatal(err)
			}
			st.Close()
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	})
}
