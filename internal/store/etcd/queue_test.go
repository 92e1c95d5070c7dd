package etcd

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"

	"github.com/stratusdns/stratus/internal/store"
)

// incr is an Update that reads the counter n and writes it plus one, as
// every write to a zone reads and rewrites its SOA.
func incr(tx store.Tx) error {
	v, _, err := tx.Get("n")
	if err != nil {
		return err
	}
	i, _ := strconv.Atoi(string(v))
	return tx.Put("n", []byte(strconv.Itoa(i+1)))
}

// TestConflictKeyNoRerun: concurrent Updates of one process under one
// conflict key take turns, so none runs again, and none is lost.
func TestConflictKeyNoRerun(t *testing.T) {
	s := openPrefix(t, t.TempDir()+"/")
	ctx := store.WithConflictKey(context.Background(), "zones/q.test.")
	const writers = 20
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.Update(ctx, incr)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if u, r := s.updates.Load(), s.reruns.Load(); u != writers || r != 0 {
		t.Errorf("%d Updates with %d re-runs, want %d with none", u, r, writers)
	}
	_ = s.View(context.Background(), func(tx store.ReadTx) error {
		if v, _, _ := tx.Get("n"); string(v) != strconv.Itoa(writers) {
			t.Errorf("n = %s, want %d", v, writers)
		}
		return nil
	})
	if len(s.queues.m) != 0 {
		t.Errorf("%d conflict keys still held", len(s.queues.m))
	}
}

// TestConflictKeyWaitEnds: an Update waiting for its key's turn gives up
// when its context ends or the store closes, and holds no turn after.
func TestConflictKeyWaitEnds(t *testing.T) {
	s := openPrefix(t, t.TempDir()+"/")
	key := "zones/q.test."
	hold, held, first := make(chan struct{}), make(chan struct{}), make(chan struct{})
	go func() {
		defer close(first)
		_, _ = s.Update(store.WithConflictKey(context.Background(), key), func(tx store.Tx) error {
			close(held)
			<-hold
			return incr(tx)
		})
	}()
	<-held
	ctx, cancel := context.WithCancel(store.WithConflictKey(context.Background(), key))
	ran := false
	done := make(chan error)
	go func() {
		_, err := s.Update(ctx, func(tx store.Tx) error { ran = true; return incr(tx) })
		done <- err
	}()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) || ran {
		t.Errorf("cancelled while waiting: %v, ran %v; want context.Canceled without running", err, ran)
	}
	// An Update under another key does not wait.
	if _, err := s.Update(store.WithConflictKey(context.Background(), "zones/other.test."), func(tx store.Tx) error { return tx.Put("o", []byte("1")) }); err != nil {
		t.Fatal(err)
	}
	go func() {
		_, err := s.Update(store.WithConflictKey(context.Background(), key), incr)
		done <- err
	}()
	s.Close()
	if err := <-done; !errors.Is(err, store.ErrClosed) {
		t.Errorf("store closed while waiting: %v, want store.ErrClosed", err)
	}
	close(hold)
	<-first
}

// TestBackoffBounded: the wait before a re-run is positive and never over
// the doubling bound nor backoffMax.
func TestBackoffBounded(t *testing.T) {
	for n := 1; n < 40; n++ {
		ceil := backoffMax
		if n < 8 {
			ceil = min(backoffMax, backoffBase<<(n-1))
		}
		for range 100 {
			if d := backoff(n); d <= 0 || d > ceil {
				t.Fatalf("backoff(%d) = %v, want in (0, %v]", n, d, ceil)
			}
		}
	}
}
