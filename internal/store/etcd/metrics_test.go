package etcd

import (
	"context"
	"errors"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/stratusdns/stratus/internal/store"
)

// TestInstrumentCommits checks the store's commit metrics on a real etcd:
// a commit counts ok, a commit that another server's commit forced to
// run again counts a conflict as well, a transaction that refuses counts
// nothing, and the instrumented store is still a shared one.
func TestInstrumentCommits(t *testing.T) {
	dir := t.TempDir()
	reg := prometheus.NewPedanticRegistry()
	raw, other := openPrefix(t, dir+"/"), openPrefix(t, dir+"/")
	s := store.Instrument(raw, reg)
	if _, ok := s.(store.Shared); !ok {
		t.Fatal("the instrumented etcd store is not a store.Shared")
	}
	ctx := context.Background()
	rev, err := s.Update(ctx, func(tx store.Tx) error { return tx.Put("n", []byte("1")) })
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.(store.CommitTimes).CommitTime(rev); !ok {
		t.Errorf("no commit time for revision %d", rev)
	}
	runs := 0
	if _, err := s.Update(ctx, func(tx store.Tx) error {
		runs++
		if _, _, err := tx.Get("n"); err != nil {
			return err
		}
		if runs == 1 { // another server commits in between
			if _, err := other.Update(ctx, func(tx store.Tx) error { return tx.Put("n", []byte("2")) }); err != nil {
				return err
			}
		}
		return tx.Put("n", []byte("3"))
	}); err != nil {
		t.Fatal(err)
	}
	refused := errors.New("refused")
	if _, err := s.Update(ctx, func(store.Tx) error { return refused }); !errors.Is(err, refused) {
		t.Fatalf("Update = %v, want the transaction's error", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Update(cctx, func(tx store.Tx) error { return tx.Put("n", []byte("4")) }); err == nil {
		t.Fatal("Update under a cancelled context succeeded")
	}
	commits, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	var observed uint64
	for _, mf := range commits {
		for _, m := range mf.GetMetric() {
			switch mf.GetName() {
			case "stratus_store_commits_total":
				got[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
			case "stratus_store_commit_duration_seconds":
				observed = m.GetHistogram().GetSampleCount()
			}
		}
	}
	want := map[string]float64{"ok": 2, "conflict": 1, "error": 1}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("stratus_store_commits_total{result=%q} = %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
	if observed != 3 {
		t.Errorf("stratus_store_commit_duration_seconds observed %d updates, want 3", observed)
	}
	if n := testutil.CollectAndCount(reg, "stratus_store_commits_total"); n != 3 {
		t.Errorf("%d series of stratus_store_commits_total, want 3", n)
	}
}
