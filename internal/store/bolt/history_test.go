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
