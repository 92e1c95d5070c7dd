package bolt

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stratusdns/stratus/internal/store"
)

// TestGroupCommitIsolatesFailures runs many concurrent updates, some of
// which fail (before or after writing) or panic: the failing ones change nothing and get their own
// error, every other one commits exactly once with its own revision.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	s := openClosed(t, filepath.Join(t.TempDir(), "stratus.db"), Options{})
	const n = 200
	var wg sync.WaitGroup
	revs := make([]store.Revision, n)
	errs := make([]error, n)
	boom, early := errors.New("boom"), errors.New("early")
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if r := recover(); r != nil {
					errs[i] = fmt.Errorf("panic: %v", r)
				}
			}()
			revs[i], errs[i] = s.Update(context.Background(), func(tx store.Tx) error {
				if i%10 == 5 {
					return early
				}
				if err := tx.Put(fmt.Sprintf("k%03d", i), []byte("v")); err != nil {
					return err
				}
				switch i % 10 {
				case 3:
					return boom
				case 7:
					panic("kaboom")
				}
				return nil
			})
		}()
	}
	wg.Wait()
	seen := map[store.Revision]bool{}
	for i := range n {
		switch i % 10 {
		case 3:
			if !errors.Is(errs[i], boom) {
				t.Errorf("update %d: err %v, want boom", i, errs[i])
			}
		case 5:
			if !errors.Is(errs[i], early) || revs[i] != 0 {
				t.Errorf("update %d: rev %d err %v, want early", i, revs[i], errs[i])
			}
		case 7:
			if errs[i] == nil || errs[i].Error() != "panic: kaboom" {
				t.Errorf("update %d: %v, want the panic", i, errs[i])
			}
		default:
			if errs[i] != nil || revs[i] == 0 || seen[revs[i]] {
				t.Errorf("update %d: rev %d err %v", i, revs[i], errs[i])
			}
			seen[revs[i]] = true
		}
	}
	rev, _ := s.Revision(context.Background())
	if int(rev) != len(seen) || len(seen) != n-3*n/10 {
		t.Errorf("store at revision %d after %d successful updates", rev, len(seen))
	}
	err := s.View(context.Background(), func(tx store.ReadTx) error {
		for i := range n {
			_, ok, err := tx.Get(fmt.Sprintf("k%03d", i))
			if err != nil {
				return err
			}
			if want := i%10 != 3 && i%10 != 5 && i%10 != 7; ok != want {
				t.Errorf("key of update %d present=%v, want %v", i, ok, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
