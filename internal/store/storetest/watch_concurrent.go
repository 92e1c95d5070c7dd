package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stratusdns/stratus/internal/store"
)

// testWatchConcurrentWriters runs many writers at once and checks that a
// watcher sees every committed transaction exactly once, in strictly
// increasing revision order, with the revision Update returned.
func testWatchConcurrentWriters(t *testing.T, f Factory) {
	const writers, perWriter = 50, 20
	s := f.open(t, "", 0)
	r0 := put(t, s, "start", "1")
	w := startWatch(t, s, r0)

	var (
		mu      sync.Mutex
		revOf   = make(map[string]store.Revision) // key -> revision Update returned
		wg      sync.WaitGroup
		ctx     = context.Background()
		updErrs = make(chan error, writers)
	)
	for g := range writers {
		wg.Go(func() {
			for i := range perWriter {
				key := fmt.Sprintf("w/%02d/%02d", g, i)
				rev, err := s.Update(ctx, func(tx store.Tx) error {
					return tx.Put(key, []byte(key))
				})
				if err != nil {
					updErrs <- fmt.Errorf("update %s: %w", key, err)
					return
				}
				mu.Lock()
				revOf[key] = rev
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(updErrs)
	for err := range updErrs {
		t.Fatal(err)
	}

	total := writers * perWriter
	if got := revision(t, s); got != r0+store.Revision(total) {
		t.Errorf("Revision after %d transactions = %d, want %d", total, got, r0+store.Revision(total))
	}
	seenRev := make(map[store.Revision]string)
	for key, rev := range revOf {
		if other, dup := seenRev[rev]; dup {
			t.Errorf("Update returned revision %d for both %s and %s", rev, key, other)
		}
		seenRev[rev] = key
	}

	seen := make(map[string]bool)
	last := r0
	for range total {
		b := w.next(t)
		if b.Revision <= last {
			t.Fatalf("batch revision %d after %d: not strictly increasing", b.Revision, last)
		}
		last = b.Revision
		if len(b.Events) != 1 {
			t.Errorf("batch %d has %d events, want 1", b.Revision, len(b.Events))
			continue
		}
		e := b.Events[0]
		if seen[e.Key] {
			t.Errorf("key %s delivered twice", e.Key)
		}
		seen[e.Key] = true
		if want, ok := revOf[e.Key]; !ok {
			t.Errorf("batch %d has unexpected key %q", b.Revision, e.Key)
		} else if want != b.Revision {
			t.Errorf("key %s delivered at revision %d, Update returned %d", e.Key, b.Revision, want)
		}
		if e.Deleted || string(e.Value) != e.Key {
			t.Errorf("batch %d event %s, want a put of the key as value", b.Revision, fmtEvents(b.Events))
		}
	}
	if len(seen) != total {
		t.Errorf("watcher saw %d keys, want %d", len(seen), total)
	}
	w.expectNothing(t)
}
