package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/store"
)

// writeWatchHistory commits five revisions whose batches are checked by
// checkWatchHistory.
func writeWatchHistory(t *testing.T, s store.Store) {
	t.Helper()
	// 1
	put(t, s, "a", "1", "b", "1", "c", "1")
	// 2: b written twice; events in first-change order b, a, d
	update(t, s, func(tx store.Tx) error {
		for _, kv := range [][2]string{{"b", "2"}, {"a", "2"}, {"b", "3"}, {"d", "1"}} {
			if err := tx.Put(kv[0], []byte(kv[1])); err != nil {
				return err
			}
		}
		return nil
	})
	// 3: deleting a missing key adds no event
	update(t, s, func(tx store.Tx) error {
		if err := tx.Delete("a"); err != nil {
			return err
		}
		if err := tx.Delete("missing"); err != nil {
			return err
		}
		return tx.Put("e", []byte("1"))
	})
	// 4: b deleted then put again
	update(t, s, func(tx store.Tx) error {
		if err := tx.Delete("b"); err != nil {
			return err
		}
		return tx.Put("b", []byte("4"))
	})
	// 5: c put then deleted
	update(t, s, func(tx store.Tx) error {
		if err := tx.Put("c", []byte("5")); err != nil {
			return err
		}
		return tx.Delete("c")
	})
}

// checkWatchHistory checks the batches of revisions from+1 .. 5 written by
// writeWatchHistory.
func checkWatchHistory(t *testing.T, w *watcher, from store.Revision) {
	t.Helper()
	want := [][]store.Event{
		1: {pe("a", "1"), pe("b", "1"), pe("c", "1")},
		2: {pe("b", "3"), pe("a", "2"), pe("d", "1")},
		3: {de("a"), pe("e", "1")},
		4: {pe("b", "4")},
		5: {de("c")},
	}
	for rev := from + 1; rev <= 5; rev++ {
		checkBatch(t, w.next(t), rev, want[rev]...)
	}
}

// testWatchOrder checks that Watch from 0 replays every batch, then follows
// new commits.
func testWatchOrder(t *testing.T, f Factory) {
	s := f.open(t, "", 0)
	writeWatchHistory(t, s)
	w := startWatch(t, s, 0)
	checkWatchHistory(t, w, 0)
	w.expectNothing(t)

	r6 := put(t, s, "f", "6")
	checkBatch(t, w.next(t), r6, pe("f", "6"))
	r7 := del(t, s, "f", "d")
	checkBatch(t, w.next(t), r7, de("f"), de("d"))
	if err := w.stop(t); !errors.Is(err, context.Canceled) {
		t.Errorf("Watch after cancel = %v, want context.Canceled", err)
	}
}

// testWatchFromPast checks Watch from a retained past revision and from the
// current one.
func testWatchFromPast(t *testing.T, f Factory) {
	s := f.open(t, "", 0)
	writeWatchHistory(t, s)
	checkWatchHistory(t, startWatch(t, s, 3), 3)

	cur := startWatch(t, s, revision(t, s))
	cur.expectNothing(t)
	r6 := put(t, s, "g", "1")
	checkBatch(t, cur.next(t), r6, pe("g", "1"))
}

// testWatchFuture checks that Watch from a revision not reached yet waits
// for it.
func testWatchFuture(t *testing.T, f Factory) {
	s := f.open(t, "", 0)
	r1 := put(t, s, "a", "1")
	w := startWatch(t, s, r1+2)
	w.expectNothing(t)
	put(t, s, "a", "2") // r1+1
	w.expectNothing(t)
	put(t, s, "a", "3") // r1+2
	w.expectNothing(t)
	r4 := put(t, s, "a", "4")
	checkBatch(t, w.next(t), r4, pe("a", "4"))
}

// testWatchCancel checks that cancelling ctx ends Watch.
func testWatchCancel(t *testing.T, f Factory) {
	s := f.open(t, "", 0)
	put(t, s, "a", "1")

	// Cancelled while waiting for a revision.
	w := startWatch(t, s, revision(t, s))
	w.expectNothing(t)
	if err := w.stop(t); !errors.Is(err, context.Canceled) {
		t.Errorf("Watch after cancel = %v, want context.Canceled", err)
	}

	// Already cancelled.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Watch(ctx, revision(t, s), func(store.Batch) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("Watch with cancelled ctx = %v, want context.Canceled", err)
	}

	// Deadline while waiting: Watch returns with the context's error.
	ctx, cancel = context.WithTimeout(context.Background(), quiet)
	defer cancel()
	errc := make(chan error, 1)
	rev := revision(t, s)
	go func() {
		errc <- s.Watch(ctx, rev, func(b store.Batch) error {
			t.Errorf("unexpected batch %d", b.Revision)
			return nil
		})
	}()
	select {
	case err := <-errc:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Watch past its deadline = %v, want context.DeadlineExceeded", err)
		}
	case <-time.After(timeout):
		t.Fatalf("Watch did not return within %v of its deadline", timeout)
	}

	// Cancelled by the callback while a backlog remains.
	put(t, s, "a", "2")
	put(t, s, "a", "3")
	ctx, cancel = context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err := s.Watch(ctx, 0, func(store.Batch) error {
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Watch cancelled from its callback = %v, want context.Canceled", err)
	}
}

// testWatchCallbackError checks that an error from fn ends Watch and is
// returned, and that fn is not called again.
func testWatchCallbackError(t *testing.T, f Factory) {
	s := f.open(t, "", 0)
	for i := range 4 {
		put(t, s, "k", string(rune('0'+i)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	calls := 0
	err := s.Watch(ctx, 0, func(b store.Batch) error {
		calls++
		if b.Revision == 2 {
			return errBoom
		}
		return nil
	})
	if !errors.Is(err, errBoom) {
		t.Errorf("Watch = %v, want the callback's error", err)
	}
	if calls != 2 {
		t.Errorf("callback called %d times, want 2", calls)
	}
}
