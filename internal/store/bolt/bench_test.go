package bolt

import (
	"context"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/stratusdns/stratus/internal/store"
)

var benchValue = []byte("0123456789abcdef0123456789abcdef")

// BenchmarkUpdate measures one small Put per committed (fsynced)
// transaction.
func BenchmarkUpdate(b *testing.B) {
	s := openTest(b, filepath.Join(b.TempDir(), "stratus.db"), Options{})
	defer s.Close()
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		key := "bench/" + strconv.Itoa(i)
		i++
		if _, err := s.Update(ctx, func(tx store.Tx) error { return tx.Put(key, benchValue) }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUpdateParallel measures the same transactions issued from 64
// goroutines per CPU: concurrent updates share commits (group commit), so
// the cost per update falls well below one sync.
func BenchmarkUpdateParallel(b *testing.B) {
	s := openTest(b, filepath.Join(b.TempDir(), "stratus.db"), Options{})
	defer s.Close()
	ctx := context.Background()
	var n atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(64)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			key := "bench/" + strconv.FormatInt(n.Add(1), 10)
			if _, err := s.Update(ctx, func(tx store.Tx) error { return tx.Put(key, benchValue) }); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
