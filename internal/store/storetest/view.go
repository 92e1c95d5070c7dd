package storetest

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/store"
)

// testViewSnapshot checks that a View keeps reading the revision it started
// at while an Update commits.
func testViewSnapshot(t *testing.T, f Factory) {
	s := f.open(t, "", 0)
	r1 := put(t, s, "a", "0", "b", "0")
	ctx := context.Background()

	updated := make(chan error, 1)
	committedDuringView := false
	err := s.View(ctx, func(tx store.ReadTx) error {
		a, _ := getTx(t, tx, "a")
		go func() {
			_, err := s.Update(ctx, func(tx store.Tx) error {
				if err := tx.Put("a", []byte("1")); err != nil {
					return err
				}
				if err := tx.Put("b", []byte("1")); err != nil {
					return err
				}
				return tx.Put("c", []byte("1"))
			})
			updated <- err
		}()
		// An engine may make the writer wait for this reader; do not wait
		// for it forever.
		select {
		case err := <-updated:
			committedDuringView = true
			if err != nil {
				t.Errorf("concurrent Update: %v", err)
			}
		case <-time.After(time.Second):
		}
		b, _ := getTx(t, tx, "b")
		if a != "0" || b != "0" {
			t.Errorf("View read a=%q b=%q, want both 0 (one snapshot)", a, b)
		}
		if _, ok := getTx(t, tx, "c"); ok {
			t.Errorf("View sees key c committed after it started")
		}
		if got, want := scanAll(t, tx, "", ""), []string{"a=0", "b=0"}; !slices.Equal(got, want) {
			t.Errorf("Scan in View = %q, want %q", got, want)
		}
		if tx.Revision() != r1 {
			t.Errorf("View revision = %d, want %d", tx.Revision(), r1)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("View: %v", err)
	}
	if !committedDuringView {
		t.Log("the concurrent Update did not commit while the View was open")
		select {
		case err := <-updated:
			if err != nil {
				t.Fatalf("concurrent Update: %v", err)
			}
		case <-time.After(timeout):
			t.Fatalf("concurrent Update did not finish within %v", timeout)
		}
	}
	wantValue(t, s, "a", "1")
	wantValue(t, s, "b", "1")
	wantValue(t, s, "c", "1")
}

// testViewConsistentUnderWrites runs readers against a writer that keeps the
// invariant a == b and checks that no reader sees it broken and that
// revisions never go backwards.
func testViewConsistentUnderWrites(t *testing.T, f Factory) {
	s := f.open(t, "", 0)
	put(t, s, "a", "0", "b", "0")
	ctx := context.Background()

	const writes, readers = 100, 4
	stop := make(chan struct{})
	var wg sync.WaitGroup
	stopReaders := sync.OnceFunc(func() { close(stop); wg.Wait() })
	defer stopReaders() // also when the writer fails the test
	for range readers {
		wg.Go(func() {
			var last store.Revision
			for n := 0; ; n++ {
				select {
				case <-stop:
					if n == 0 {
						t.Error("reader never ran")
					}
					return
				default:
				}
				err := s.View(ctx, func(tx store.ReadTx) error {
					a, _, err := tx.Get("a")
					if err != nil {
						return err
					}
					b, _, err := tx.Get("b")
					if err != nil {
						return err
					}
					if string(a) != string(b) {
						t.Errorf("View at revision %d read a=%q b=%q", tx.Revision(), a, b)
					}
					if tx.Revision() < last {
						t.Errorf("View revision went back from %d to %d", last, tx.Revision())
					}
					last = tx.Revision()
					return nil
				})
				if err != nil {
					t.Errorf("View: %v", err)
					return
				}
			}
		})
	}
	for i := 1; i <= writes; i++ {
		v := []byte(strconv.Itoa(i))
		update(t, s, func(tx store.Tx) error {
			if err := tx.Put("a", v); err != nil {
				return err
			}
			return tx.Put("b", v)
		})
	}
	stopReaders()
	wantValue(t, s, "a", strconv.Itoa(writes))
}
