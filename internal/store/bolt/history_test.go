package bolt

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/store"
)

// TestHistoryAfterReopen checks that the watch history starts empty at the
// stored revision.
func TestHistoryAfterReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stratus.db")
	s := openTest(t, path, Options{})
	for range 3 {
		putKV(t, s, "k", "v")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openClosed(t, path, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Watch(ctx, 2, func(store.Batch) error { return nil }); !errors.Is(err, store.ErrCompacted) {
		t.Errorf("Watch from before reopen = %v, want ErrCompacted", err)
	}
	errStop := errors.New("stop")
	got := make(chan store.Revision, 1)
	errc := make(chan error, 1)
	go func() {
		errc <- s.Watch(ctx, 3, func(b store.Batch) error {
			got <- b.Revision
			return errStop
		})
	}()
	putKV(t, s, "k", "w")
	if err := <-errc; !errors.Is(err, errStop) {
		t.Fatalf("Watch = %v", err)
	}
	if rev := <-got; rev != 4 {
		t.Errorf("Watch from the reopened revision got %d, want 4", rev)
	}
}

// TestHistoryBytes checks the byte bound of the watch history.
func TestHistoryBytes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stratus.db")
	s := openClosed(t, path, Options{HistoryBytes: 4 << 10})
	big := strings.Repeat("x", 1000)
	var last store.Revision
	for range 10 {
		last = putKV(t, s, "k", big)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stop := errors.New("stop")
	watchFrom := func(from store.Revision) error {
		return s.Watch(ctx, from, func(store.Batch) error { return stop })
	}
	// About 1.1 kB per batch: the last three fit in 4 kB, four do not.
	if err := watchFrom(last - 3); !errors.Is(err, stop) {
		t.Errorf("Watch from %d = %v, want a batch", last-3, err)
	}
	if err := watchFrom(last - 4); !errors.Is(err, store.ErrCompacted) {
		t.Errorf("Watch from %d = %v, want ErrCompacted", last-4, err)
	}

	// A batch larger than the bound is still kept as the newest.
	last = putKV(t, s, "k", strings.Repeat("y", 10<<10))
	if err := watchFrom(last - 1); !errors.Is(err, stop) {
		t.Errorf("Watch from %d after a huge batch = %v, want a batch", last-1, err)
	}
	if err := watchFrom(last - 2); !errors.Is(err, store.ErrCompacted) {
		t.Errorf("Watch from %d after a huge batch = %v, want ErrCompacted", last-2, err)
	}
}

// TestHistoryDropsHugeBatchOnceGiven checks that a newest batch over the
// byte bound is dropped once every running watcher has been given it, and
// kept until then.
func TestHistoryDropsHugeBatchOnceGiven(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stratus.db")
	s := openClosed(t, path, Options{HistoryBytes: 4 << 10})
	r0 := putKV(t, s, "k", "v")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// Two watchers from r0: one follows, the other is stuck on the batch
	// before the huge one.
	given, release := make(chan store.Revision, 1), make(chan struct{})
	stuck := make(chan struct{})
	errs := make(chan error, 2)
	go func() {
		errs <- s.Watch(ctx, r0, func(b store.Batch) error {
			given <- b.Revision
			return nil
		})
	}()
	errStuck := errors.New("stuck")
	go func() {
		errs <- s.Watch(ctx, r0, func(b store.Batch) error {
			close(stuck)
			<-release
			return errStuck
		})
	}()
	r1 := putKV(t, s, "k", "w")
	<-stuck
	if rev := <-given; rev != r1 {
		t.Fatalf("watcher given %d, want %d", rev, r1)
	}
	huge := putKV(t, s, "k", strings.Repeat("y", 10<<10))
	if rev := <-given; rev != huge {
		t.Fatalf("watcher given %d, want %d", rev, huge)
	}
	stop := errors.New("stop")
	watchFrom := func(from store.Revision) error {
		return s.Watch(ctx, from, func(store.Batch) error { return stop })
	}
	if err := watchFrom(r1); !errors.Is(err, stop) {
		t.Errorf("Watch from %d while a watcher has not been given the huge batch = %v, want the batch", r1, err)
	}
	// The stuck watcher ends without being given it.
	close(release)
	if err := <-errs; !errors.Is(err, errStuck) {
		t.Fatalf("stuck watcher = %v", err)
	}
	if err := watchFrom(r1); !errors.Is(err, store.ErrCompacted) {
		t.Errorf("Watch from %d after every watcher was given the huge batch = %v, want ErrCompacted", r1, err)
	}
	// The running watcher goes on with the next batch.
	next := putKV(t, s, "k", "x")
	if rev := <-given; rev != next {
		t.Errorf("watcher given %d, want %d", rev, next)
	}
	cancel()
	<-errs
}
