package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/store"
)

// compactHistory is the watch history the compaction tests ask for.
const compactHistory = 4

// testWatchCompacted checks that watching from a revision older than the
// retained history fails with ErrCompacted, and that the retained history
// is still served.
func testWatchCompacted(t *testing.T, f Factory) {
	s := f.open(t, "", compactHistory)
	var last store.Revision
	for i := range 3 * compactHistory {
		last = put(t, s, "k", string(rune('a'+i)))
	}
	ctx := context.Background()
	never := func(b store.Batch) error {
		t.Errorf("unexpected batch %d", b.Revision)
		return nil
	}
	for _, from := range []store.Revision{0, 1, last - compactHistory - 1} {
		done := make(chan error, 1)
		go func() { done <- s.Watch(ctx, from, never) }()
		select {
		case err := <-done:
			if !errors.Is(err, store.ErrCompacted) {
				t.Errorf("Watch from %d with history %d at revision %d = %v, want ErrCompacted",
					from, compactHistory, last, err)
			}
		case <-time.After(timeout):
			t.Fatalf("Watch from compacted revision %d did not return", from)
		}
	}

	from := last - compactHistory
	w := startWatch(t, s, from)
	for rev := from + 1; rev <= last; rev++ {
		checkBatch(t, w.next(t), rev, pe("k", string(rune('a'+rev-1))))
	}
	w.expectNothing(t)
}

// testWatchSlowWatcher checks that a watcher stuck in its callback does not
// block writers, and gets ErrCompacted once it has fallen further behind
// than the retained history.
func testWatchSlowWatcher(t *testing.T, f Factory) {
	s := f.open(t, "", compactHistory)
	r0 := put(t, s, "k", "0")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	entered, release := make(chan store.Revision, 1), make(chan struct{})
	done := make(chan error, 1)
	calls := 0
	go func() {
		done <- s.Watch(ctx, r0, func(b store.Batch) error {
			calls++
			if calls == 1 {
				entered <- b.Revision
				select {
				case <-release:
				case <-ctx.Done():
				}
			}
			return nil
		})
	}()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(timeout):
			t.Errorf("Watch did not return after cancel")
		}
	}()

	r1 := put(t, s, "k", "1")
	select {
	case rev := <-entered:
		if rev != r1 {
			t.Fatalf("first batch %d, want %d", rev, r1)
		}
	case <-time.After(timeout):
		t.Fatal("watcher got no batch")
	}

	// The watcher is stuck on r1; writers must go on.
	writesDone := make(chan struct{})
	go func() {
		defer close(writesDone)
		for i := range 3 * compactHistory {
			if _, err := s.Update(context.Background(), func(tx store.Tx) error {
				return tx.Put("k", []byte{byte('a' + i)})
			}); err != nil {
				t.Errorf("Update: %v", err)
				return
			}
		}
	}()
	select {
	case <-writesDone:
	case <-time.After(timeout):
		t.Fatal("writers blocked by a slow watcher")
	}

	close(release)
	select {
	case err := <-done:
		done <- err // for the deferred wait
		if !errors.Is(err, store.ErrCompacted) {
			t.Errorf("slow Watch = %v, want ErrCompacted", err)
		}
	case <-time.After(timeout):
		t.Fatal("slow Watch did not end")
	}
}
