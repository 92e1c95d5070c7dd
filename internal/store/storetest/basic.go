package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/stratusdns/stratus/internal/store"
)

// testGetPutDelete checks the basic key operations and their errors.
func testGetPutDelete(t *testing.T, f Factory) {
	s := f.open(t, "", 0)
	wantMissing(t, s, "a")

	binKey, binVal := "k\x00\xff", make([]byte, 256)
	for i := range binVal {
		binVal[i] = byte(i)
	}
	update(t, s, func(tx store.Tx) error {
		for _, err := range []error{
			tx.Put("a", []byte("1")),
			tx.Put("empty", []byte{}),
			tx.Put("nil", nil),
			tx.Put(binKey, binVal),
		} {
			if err != nil {
				return err
			}
		}
		return nil
	})
	wantValue(t, s, "a", "1")
	wantValue(t, s, "empty", "")
	wantValue(t, s, "nil", "")
	wantValue(t, s, binKey, string(binVal))

	put(t, s, "a", "2")
	wantValue(t, s, "a", "2")

	del(t, s, "a")
	wantMissing(t, s, "a")
	wantValue(t, s, "empty", "")

	// Deleting a missing key is not an error; empty keys are.
	update(t, s, func(tx store.Tx) error {
		if err := tx.Delete("never-existed"); err != nil {
			t.Errorf("Delete(missing) = %v, want nil", err)
		}
		if err := tx.Put("", []byte("x")); !errors.Is(err, store.ErrEmptyKey) {
			t.Errorf("Put(\"\") = %v, want ErrEmptyKey", err)
		}
		if err := tx.Delete(""); !errors.Is(err, store.ErrEmptyKey) {
			t.Errorf("Delete(\"\") = %v, want ErrEmptyKey", err)
		}
		return nil
	})
	wantMissing(t, s, "")
}

// testRevisions checks that exactly the committed transactions that change
// something produce a revision, one each.
func testRevisions(t *testing.T, f Factory) {
	s := f.open(t, "", 0)
	ctx := context.Background()
	if rev := revision(t, s); rev != 0 {
		t.Fatalf("empty store at revision %d, want 0", rev)
	}
	viewRev := func() store.Revision {
		t.Helper()
		var rev store.Revision
		if err := s.View(ctx, func(tx store.ReadTx) error { rev = tx.Revision(); return nil }); err != nil {
			t.Fatalf("View: %v", err)
		}
		return rev
	}
	if rev := viewRev(); rev != 0 {
		t.Errorf("View of empty store at revision %d, want 0", rev)
	}

	if rev := put(t, s, "a", "1", "b", "1", "c", "1"); rev != 1 {
		t.Errorf("first Update (three puts) = revision %d, want 1", rev)
	}
	if rev := put(t, s, "a", "2"); rev != 2 {
		t.Errorf("second Update = revision %d, want 2", rev)
	}
	if rev := revision(t, s); rev != 2 {
		t.Errorf("Revision = %d, want 2", rev)
	}
	if rev := viewRev(); rev != 2 {
		t.Errorf("View at revision %d, want 2", rev)
	}

	noChange := map[string]func(tx store.Tx) error{
		"empty":          func(store.Tx) error { return nil },
		"read-only":      func(tx store.Tx) error { _, _, err := tx.Get("a"); return err },
		"delete-missing": func(tx store.Tx) error { return tx.Delete("missing") },
	}
	for name, fn := range noChange {
		if rev := update(t, s, fn); rev != 2 {
			t.Errorf("%s Update = revision %d, want the current revision 2", name, rev)
		}
	}

	rev, err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.Put("a", []byte("3")); err != nil {
			return err
		}
		return errBoom
	})
	if err != errBoom {
		t.Errorf("failing Update error = %v, want errBoom unchanged", err)
	}
	if rev != 0 && rev != 2 {
		t.Errorf("failing Update returned revision %d", rev)
	}
	if rev := revision(t, s); rev != 2 {
		t.Errorf("after empty and failed Updates Revision = %d, want 2", rev)
	}

	if rev := del(t, s, "b"); rev != 3 {
		t.Errorf("Update after empty and failed ones = revision %d, want 3", rev)
	}
	if rev := revision(t, s); rev != 3 {
		t.Errorf("Revision = %d, want 3", rev)
	}
}

// testFailedUpdateWritesNothing checks that an Update whose fn fails leaves
// no trace, neither in the data nor in the watch stream.
func testFailedUpdateWritesNothing(t *testing.T, f Factory) {
	s := f.open(t, "", 0)
	r1 := put(t, s, "a", "1", "b", "1")
	w := startWatch(t, s, r1)

	_, err := s.Update(context.Background(), func(tx store.Tx) error {
		for _, err := range []error{
			tx.Put("a", []byte("2")),
			tx.Put("new", []byte("x")),
			tx.Delete("b"),
		} {
			if err != nil {
				return err
			}
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("Update = %v, want errBoom", err)
	}
	wantValue(t, s, "a", "1")
	wantValue(t, s, "b", "1")
	wantMissing(t, s, "new")
	w.expectNothing(t)

	r2 := put(t, s, "c", "1")
	if r2 != r1+1 {
		t.Errorf("revision after failed Update = %d, want %d", r2, r1+1)
	}
	checkBatch(t, w.next(t), r2, pe("c", "1"))
}

// testReadYourWrites checks that a transaction reads its own writes, with
// Get and Scan.
func testReadYourWrites(t *testing.T, f Factory) {
	s := f.open(t, "", 0)
	put(t, s, "x", "old", "y", "y")
	update(t, s, func(tx store.Tx) error {
		if v, ok := getTx(t, tx, "x"); !ok || v != "old" {
			t.Errorf("Get(x) before Put = %q, %v", v, ok)
		}
		if err := tx.Put("x", []byte("new")); err != nil {
			return err
		}
		if err := tx.Put("z", []byte("z")); err != nil {
			return err
		}
		if err := tx.Delete("y"); err != nil {
			return err
		}
		if v, ok := getTx(t, tx, "x"); !ok || v != "new" {
			t.Errorf("Get(x) after Put = %q, %v; want new", v, ok)
		}
		if v, ok := getTx(t, tx, "z"); !ok || v != "z" {
			t.Errorf("Get(z) after Put = %q, %v; want z", v, ok)
		}
		if v, ok := getTx(t, tx, "y"); ok {
			t.Errorf("Get(y) after Delete = %q, true; want missing", v)
		}
		want := []string{"x=new", "z=z"}
		if got := scanAll(t, tx, "", ""); !slices.Equal(got, want) {
			t.Errorf("Scan inside the transaction = %q, want %q", got, want)
		}
		return nil
	})
	wantValue(t, s, "x", "new")
	wantValue(t, s, "z", "z")
	wantMissing(t, s, "y")
}

// testValuesCopied checks that Put keeps its own copy of the value.
func testValuesCopied(t *testing.T, f Factory) {
	s := f.open(t, "", 0)
	w := startWatch(t, s, 0)
	buf := []byte("original")
	update(t, s, func(tx store.Tx) error {
		if err := tx.Put("k", buf); err != nil {
			return err
		}
		copy(buf, "MUTATED!")
		if v, _ := getTx(t, tx, "k"); v != "original" {
			t.Errorf("Get after mutating the Put slice = %q, want original", v)
		}
		return nil
	})
	copy(buf, "CHANGED!")
	wantValue(t, s, "k", "original")
	checkBatch(t, w.next(t), 1, pe("k", "original"))
}
