package bolt

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/stratusdns/stratus/internal/store"
)

// TestInstrumentCommits checks the commit metrics over bbolt, and that
// the instrumented store still gives back its memory (MemoryReleaser)
// and is no shared store.
func TestInstrumentCommits(t *testing.T) {
	raw, err := Open(filepath.Join(t.TempDir(), "db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	s := store.Instrument(raw, reg)
	defer s.Close()
	if _, ok := s.(store.MemoryReleaser); !ok {
		t.Error("the instrumented bbolt store is not a store.MemoryReleaser")
	}
	if _, ok := s.(store.Shared); ok {
		t.Error("the instrumented bbolt store is a store.Shared")
	}
	for i := range 3 {
		if _, err := s.Update(context.Background(), func(tx store.Tx) error { return tx.Put("k", []byte{byte(i)}) }); err != nil {
			t.Fatal(err)
		}
	}
	want := `
# HELP stratus_store_commits_total Store commits by result: ok, error, or conflict (a transaction run again because a commit changed what it read).
# TYPE stratus_store_commits_total counter
stratus_store_commits_total{result="conflict"} 0
stratus_store_commits_total{result="error"} 0
stratus_store_commits_total{result="ok"} 3
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "stratus_store_commits_total"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(reg, "stratus_store_commit_duration_seconds"); n != 1 {
		t.Errorf("%d stratus_store_commit_duration_seconds series, want 1", n)
	}
}
