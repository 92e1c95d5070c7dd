package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stratusdns/stratus/internal/store"
)

// A rangeRead is what an Update reads of a range, as text: the keys and
// values a Scan gave, or a count.
type rangeRead func(tx store.ReadTx) (string, error)

// scanRead scans prefix from start, stopping after stop keys (0: all).
func scanRead(prefix, start string, stop int) rangeRead {
	return func(tx store.ReadTx) (string, error) {
		var b strings.Builder
		n := 0
		err := tx.Scan(prefix, start, func(k string, v []byte) error {
			fmt.Fprintf(&b, "%s=%s ", k, v)
			if n++; n == stop {
				return store.ErrStopScan
			}
			return nil
		})
		return b.String(), err
	}
}

// getManyRead reads keys with store.GetMany.
func getManyRead(keys ...string) rangeRead {
	return func(tx store.ReadTx) (string, error) {
		values, found, err := store.GetMany(tx, keys)
		if err != nil {
			return "", err
		}
		var b strings.Builder
		for i, k := range keys {
			if !found[i] {
				fmt.Fprintf(&b, "%s missing ", k)
				continue
			}
			fmt.Fprintf(&b, "%s=%s ", k, values[i])
		}
		return b.String(), nil
	}
}

func countRead(prefix string) rangeRead {
	return func(tx store.ReadTx) (string, error) {
		n, err := tx.Count(prefix)
		return fmt.Sprint(n), err
	}
}

// testUpdateReadsSerializable checks that an Update commits only if the
// ranges it read (Scan results, counts) are still what it read: another
// Update that commits while fn runs and inserts into, deletes from or
// changes a range fn read either commits after it or makes fn run again
// on its result, never both miss each other. Engines that run Updates at
// once (Factory.Concurrent) must run fn again exactly when what it read
// changed: not when the other Update wrote a disjoint range.
func testUpdateReadsSerializable(t *testing.T, f Factory) {
	putKV := func(kv ...string) func(store.Tx) error {
		return func(tx store.Tx) error {
			for i := 0; i < len(kv); i += 2 {
				if err := tx.Put(kv[i], []byte(kv[i+1])); err != nil {
					return err
				}
			}
			return nil
		}
	}
	delKey := func(key string) func(store.Tx) error {
		return func(tx store.Tx) error { return tx.Delete(key) }
	}
	for _, tc := range []struct {
		name     string
		read     rangeRead
		other    func(store.Tx) error
		conflict bool // what fn read changed
	}{
		{"insert into a scanned range", scanRead("s/a/", "", 0), putKV("s/a/3", "x"), true},
		{"delete from a scanned range", scanRead("s/a/", "", 0), delKey("s/a/1"), true},
		{"change in a scanned range", scanRead("s/a/", "", 0), putKV("s/a/2", "y"), true},
		{"delete below a scanned range", scanRead("s/", "", 0), delKey("s/b/1"), true},
		{"delete deep below a scanned range", scanRead("s/", "", 0), delKey("s/c/d/e/1"), true},
		{"delete from a deep scanned range", scanRead("s/c/d/e/", "", 0), delKey("s/c/d/e/1"), true},
		{"insert before where a scan stopped", scanRead("s/a/", "", 1), putKV("s/a/0", "x"), true},
		{"insert after a scan's start", scanRead("s/a/", "s/a/1", 0), putKV("s/a/3", "x"), true},
		{"delete after a scan's start", scanRead("s/a/", "s/a/1", 0), delKey("s/a/2"), true},
		{"scan of a prefix that is no directory", scanRead("s/a", "", 0), putKV("s/a0", "x"), true},
		{"insert into a counted range", countRead("s/a/"), putKV("s/a/3", "x"), true},
		{"delete from a counted range", countRead("s/a/"), delKey("s/a/2"), true},
		{"change of a key read by GetMany", getManyRead("s/a/1", "s/b/1", "s/z"), putKV("s/b/1", "y"), true},
		{"insert of a missing key read by GetMany", getManyRead("s/a/1", "s/b/1", "s/z"), putKV("s/z", "x"), true},
		{"delete of a key read by GetMany", getManyRead("s/a/1", "s/b/1", "s/z"), delKey("s/a/1"), true},
		{"change next to keys read by GetMany", getManyRead("s/a/1", "s/b/1", "s/z"), putKV("s/a/2", "y", "s/b/3", "x"), false},
		{"insert into a sibling range", scanRead("s/a/", "", 0), putKV("s/b/3", "x"), false},
		{"delete from a sibling range", scanRead("s/a/", "", 0), delKey("s/b/1"), false},
		{"delete of a key sorting after the range", scanRead("s/a/", "", 0), delKey("s/a0"), false},
		{"delete of a key sorting before the range", scanRead("s/a/", "", 0), delKey("s/a."), false},
		{"delete from another tree", scanRead("s/a/", "", 0), delKey("t/1"), false},
		{"insert next to a counted range", countRead("s/a/"), putKV("s/b/9", "x", "s/a0", "x"), false},
		{"delete next to a counted range", countRead("s/a/"), delKey("s/b/2"), false},
		{"change in a sibling of a deep range", scanRead("s/c/d/e/", "", 0), putKV("s/c/x/1", "x"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := f.open(t, "", 0)
			put(t, s, "s/a/1", "1", "s/a/2", "2", "s/a.", "1", "s/a0", "1",
				"s/b/1", "1", "s/b/2", "2", "s/c/d/e/1", "1", "s/c/x/0", "0", "t/1", "1")
			ctx := context.Background()
			var before string
			if err := s.View(ctx, func(tx store.ReadTx) (err error) { before, err = tc.read(tx); return err }); err != nil {
				t.Fatal(err)
			}

			type result struct {
				rev store.Revision
				err error
			}
			otherDone := make(chan result, 1)
			runs := 0
			rev, err := s.Update(ctx, func(tx store.Tx) error {
				runs++
				got, err := tc.read(tx)
				if err != nil {
					return err
				}
				if runs == 1 {
					go func() {
						r, err := s.Update(ctx, tc.other)
						otherDone <- result{r, err}
					}()
					if f.Concurrent {
						// Let the other Update commit between this
						// one's read and its commit.
						r := <-otherDone
						otherDone <- r
					}
				}
				return tx.Put("out", []byte(got))
			})
			if err != nil {
				t.Fatalf("Update: %v", err)
			}
			other := <-otherDone
			if other.err != nil {
				t.Fatalf("other Update: %v", other.err)
			}
			var after, out string
			if err := s.View(ctx, func(tx store.ReadTx) (err error) {
				out, _ = getTx(t, tx, "out")
				after, err = tc.read(tx)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			if tc.conflict == (before == after) {
				t.Fatalf("bad case: read %q before the other Update and %q after", before, after)
			}
			// The outcome of one order or the other: fn read the state
			// before the other Update only if it committed first.
			want := before
			if other.rev < rev {
				want = after
			}
			if out != want {
				t.Errorf("fn read %q and committed at %d, the other Update at %d: want %q (a lost conflict)", out, rev, other.rev, want)
			}
			if !f.Concurrent {
				return
			}
			wantRuns := 1
			if tc.conflict {
				wantRuns = 2
			}
			if runs != wantRuns || other.rev > rev {
				t.Errorf("fn ran %d times (want %d), committed at %d after the other Update's %d", runs, wantRuns, rev, other.rev)
			}
		})
	}
}
