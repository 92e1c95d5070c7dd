package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/stratusdns/stratus/internal/store"
)

// testGetMany checks that store.GetMany reads what a Get of each key
// reads: in a View, and in an Update with the transaction's own puts
// and deletes, keys missing, repeated, and more keys than one request of
// an engine that reads them in pages.
func testGetMany(t *testing.T, f Factory) {
	s := f.open(t, "", 0)
	ctx := context.Background()
	put(t, s, "g/a", "1", "g/b", "2", "g/c", "3", "g/empty", "")
	// 300 keys, in commits of 100 (etcd's default --max-txn-ops
	// bounds a commit's keys).
	for i := 0; i < 300; i += 100 {
		var kv []string
		for j := i; j < i+100; j++ {
			kv = append(kv, fmt.Sprintf("g/n/%03d", j), fmt.Sprint(j))
		}
		put(t, s, kv...)
	}

	// check compares GetMany(keys) with a Get of each key in tx.
	check := func(t *testing.T, tx store.ReadTx, keys []string) {
		t.Helper()
		values, found, err := store.GetMany(tx, keys)
		if err != nil {
			t.Fatalf("GetMany: %v", err)
		}
		if len(values) != len(keys) || len(found) != len(keys) {
			t.Fatalf("GetMany of %d keys: %d values, %d found", len(keys), len(values), len(found))
		}
		for i, k := range keys {
			v, ok, err := tx.Get(k)
			if err != nil {
				t.Fatal(err)
			}
			if found[i] != ok || string(values[i]) != string(v) {
				t.Errorf("GetMany: %s = %q, %v; Get: %q, %v", k, values[i], found[i], v, ok)
			}
		}
	}
	keys := []string{"g/a", "g/missing", "g/b", "g/a", "g/empty", "g/c"}
	var many []string
	for i := 0; i < 300; i++ {
		many = append(many, fmt.Sprintf("g/n/%03d", 299-i), fmt.Sprintf("g/m/%03d", i))
	}

	t.Run("View", func(t *testing.T) {
		if err := s.View(ctx, func(tx store.ReadTx) error {
			values, found, err := store.GetMany(tx, keys)
			if err != nil {
				return err
			}
			want := []string{"1", "", "2", "1", "", "3"}
			wantFound := []bool{true, false, true, true, true, true}
			for i := range keys {
				if string(values[i]) != want[i] || found[i] != wantFound[i] {
					t.Errorf("%s = %q, %v, want %q, %v", keys[i], values[i], found[i], want[i], wantFound[i])
				}
			}
			check(t, tx, keys)
			check(t, tx, many)
			check(t, tx, nil)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("Update", func(t *testing.T) {
		if _, err := s.Update(ctx, func(tx store.Tx) error {
			for _, op := range []func() error{
				func() error { return tx.Put("g/a", []byte("new")) },
				func() error { return tx.Delete("g/b") },
				func() error { return tx.Put("g/missing", []byte("now")) },
				func() error { return tx.Put("g/n/007", []byte("seven")) },
				func() error { return tx.Delete("g/n/008") },
			} {
				if err := op(); err != nil {
					return err
				}
			}
			values, found, err := store.GetMany(tx, keys)
			if err != nil {
				return err
			}
			want := []string{"new", "now", "", "new", "", "3"}
			wantFound := []bool{true, true, false, true, true, true}
			for i := range keys {
				if string(values[i]) != want[i] || found[i] != wantFound[i] {
					t.Errorf("%s = %q, %v, want %q, %v (the transaction's own writes)", keys[i], values[i], found[i], want[i], wantFound[i])
				}
			}
			check(t, tx, keys)
			check(t, tx, many)
			// Reading does not write: the transaction commits its own
			// writes only.
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		wantValue(t, s, "g/a", "new")
		wantMissing(t, s, "g/b")
		wantValue(t, s, "g/c", "3")
	})
}
