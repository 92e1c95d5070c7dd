package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/stratusdns/stratus/internal/store"
)

// scanKeys are stored by the Scan tests, each with value "v:"+key. In
// bytewise order: B a b b/1 b/10 b/2 b/3 b/\xff b0 c.
var scanKeys = []string{"c", "b0", "b/\xff", "b/3", "b/2", "b/10", "b/1", "b", "a", "B"}

func fillScanKeys(t *testing.T, s store.Store) {
	t.Helper()
	var kv []string
	for _, k := range scanKeys {
		kv = append(kv, k, "v:"+k)
	}
	put(t, s, kv...)
}

// testScan checks Scan's order, prefix and exclusive start, in a View and in
// an Update.
func testScan(t *testing.T, f Factory) {
	s := f.open(t, "", 0)
	fillScanKeys(t, s)
	rev := revision(t, s)

	kv := func(keys ...string) []string {
		out := make([]string, 0, len(keys))
		for _, k := range keys {
			out = append(out, k+"=v:"+k)
		}
		return out
	}
	cases := []struct {
		prefix, start string
		want          []string
	}{
		{"", "", kv("B", "a", "b", "b/1", "b/10", "b/2", "b/3", "b/\xff", "b0", "c")},
		{"", "b/3", kv("b/\xff", "b0", "c")},
		{"b/", "", kv("b/1", "b/10", "b/2", "b/3", "b/\xff")},
		{"b/", "b/10", kv("b/2", "b/3", "b/\xff")},
		{"b/", "b/15", kv("b/2", "b/3", "b/\xff")},
		{"b/", "a", kv("b/1", "b/10", "b/2", "b/3", "b/\xff")},
		{"b/", "b/", kv("b/1", "b/10", "b/2", "b/3", "b/\xff")},
		{"b/", "b/\xff", nil},
		{"b/", "b0", nil},
		{"b", "b", kv("b/1", "b/10", "b/2", "b/3", "b/\xff", "b0")},
		{"b", "", kv("b", "b/1", "b/10", "b/2", "b/3", "b/\xff", "b0")},
		{"c", "", kv("c")},
		{"c/", "", nil},
		{"zz", "", nil},
		{"", "zz", nil},
	}
	check := func(where string, tx store.ReadTx) {
		for _, c := range cases {
			if got := scanAll(t, tx, c.prefix, c.start); !slices.Equal(got, c.want) {
				t.Errorf("%s: Scan(%q, %q) = %q, want %q", where, c.prefix, c.start, got, c.want)
			}
			if c.start != "" {
				continue
			}
			if n, err := tx.Count(c.prefix); err != nil || n != len(c.want) {
				t.Errorf("%s: Count(%q) = %d, %v, want %d", where, c.prefix, n, err, len(c.want))
			}
		}
	}
	if err := s.View(context.Background(), func(tx store.ReadTx) error {
		check("View", tx)
		return nil
	}); err != nil {
		t.Fatalf("View: %v", err)
	}
	if got := update(t, s, func(tx store.Tx) error {
		check("Update", tx)
		return nil
	}); got != rev {
		t.Errorf("read-only Update created revision %d (was %d)", got, rev)
	}
	// Count sees the transaction's own writes.
	errUndo := errors.New("undo")
	_, err := s.Update(context.Background(), func(tx store.Tx) error {
		if err := tx.Put("b/4", []byte("v")); err != nil {
			return err
		}
		if err := tx.Delete("b/1"); err != nil {
			return err
		}
		if err := tx.Put("b/5", []byte("v")); err != nil {
			return err
		}
		if n, err := tx.Count("b/"); err != nil || n != 6 {
			t.Errorf("Count(\"b/\") after two puts and a delete = %d, %v, want 6", n, err)
		}
		return errUndo
	})
	if !errors.Is(err, errUndo) {
		t.Errorf("Update: %v", err)
	}
}

// testScanStopAndError checks ErrStopScan and error propagation.
func testScanStopAndError(t *testing.T, f Factory) {
	s := f.open(t, "", 0)
	fillScanKeys(t, s)
	errCustom := errors.New("custom scan error")
	err := s.View(context.Background(), func(tx store.ReadTx) error {
		var seen []string
		err := tx.Scan("b/", "", func(k string, _ []byte) error {
			seen = append(seen, k)
			if len(seen) == 2 {
				return store.ErrStopScan
			}
			return nil
		})
		if err != nil {
			t.Errorf("Scan stopped with ErrStopScan = %v, want nil", err)
		}
		if want := []string{"b/1", "b/10"}; !slices.Equal(seen, want) {
			t.Errorf("Scan with ErrStopScan visited %q, want %q", seen, want)
		}

		seen = nil
		err = tx.Scan("", "", func(k string, _ []byte) error {
			seen = append(seen, k)
			if k == "b" {
				return errCustom
			}
			return nil
		})
		if !errors.Is(err, errCustom) {
			t.Errorf("Scan with failing callback = %v, want %v", err, errCustom)
		}
		if want := []string{"B", "a", "b"}; !slices.Equal(seen, want) {
			t.Errorf("Scan with failing callback visited %q, want %q", seen, want)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("View: %v", err)
	}

	// An error from a Scan callback aborts the Update that returns it.
	_, err = s.Update(context.Background(), func(tx store.Tx) error {
		return tx.Scan("b/", "", func(k string, _ []byte) error {
			if err := tx.Delete(k); err != nil {
				return err
			}
			return errCustom
		})
	})
	if !errors.Is(err, errCustom) {
		t.Errorf("Update = %v, want %v", err, errCustom)
	}
	wantValue(t, s, "b/1", "v:b/1")
}

// testScanWhileWriting checks that a Scan callback may rewrite or delete the
// key it was given and the scan still visits every key once.
func testScanWhileWriting(t *testing.T, f Factory) {
	s := f.open(t, "", 0)
	fillScanKeys(t, s)
	want := []string{"b/1", "b/10", "b/2", "b/3", "b/\xff"}

	// Writing first makes the engine's own buffers, not its stored pages,
	// back the scan (bbolt cursors then walk the modified nodes).
	touch := func(tx store.Tx) error { return tx.Put("a", []byte("v:a")) }

	var seen []string
	update(t, s, func(tx store.Tx) error {
		if err := touch(tx); err != nil {
			return err
		}
		return tx.Scan("b/", "", func(k string, v []byte) error {
			seen = append(seen, k)
			return tx.Put(k, append([]byte("new:"), v...))
		})
	})
	if !slices.Equal(seen, want) {
		t.Errorf("Scan rewriting each key visited %q, want %q", seen, want)
	}
	for _, k := range want {
		wantValue(t, s, k, "new:v:"+k)
	}

	seen = nil
	update(t, s, func(tx store.Tx) error {
		if err := touch(tx); err != nil {
			return err
		}
		return tx.Scan("b/", "", func(k string, _ []byte) error {
			seen = append(seen, k)
			return tx.Delete(k)
		})
	})
	if !slices.Equal(seen, want) {
		t.Errorf("Scan deleting each key visited %q, want %q", seen, want)
	}
	for _, k := range want {
		wantMissing(t, s, k)
	}
	for _, k := range []string{"b", "b0", "a"} {
		wantValue(t, s, k, "v:"+k)
	}
}
