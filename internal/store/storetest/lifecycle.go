package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/stratusdns/stratus/internal/store"
)

// testDurability checks that data and revision survive Close and reopen.
func testDurability(t *testing.T, f Factory) {
	dir := t.TempDir()
	s := f.open(t, dir, 0)
	put(t, s, "a", "1", "b", "1")
	put(t, s, "b", "2", "c", "3")
	r3 := del(t, s, "a")
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = f.open(t, dir, 0)
	if got := revision(t, s); got != r3 {
		t.Fatalf("revision after reopen = %d, want %d", got, r3)
	}
	wantMissing(t, s, "a")
	wantValue(t, s, "b", "2")
	wantValue(t, s, "c", "3")

	w := startWatch(t, s, r3)
	r4 := put(t, s, "d", "4")
	if r4 != r3+1 {
		t.Errorf("first revision after reopen = %d, want %d", r4, r3+1)
	}
	checkBatch(t, w.next(t), r4, pe("d", "4"))
	if err := w.stop(t); !errors.Is(err, context.Canceled) {
		t.Errorf("Watch after cancel = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = f.open(t, dir, 0)
	if got := revision(t, s); got != r4 {
		t.Errorf("revision after second reopen = %d, want %d", got, r4)
	}
	wantValue(t, s, "d", "4")
}

// testClose checks that Close ends watchers and that every later call
// returns ErrClosed.
func testClose(t *testing.T, f Factory) {
	s := f.open(t, "", 0)
	r1 := put(t, s, "a", "1")
	w := startWatch(t, s, r1)
	w.expectNothing(t)

	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := w.result(t); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Watch after Close = %v, want ErrClosed", err)
	}

	ctx := context.Background()
	if err := s.View(ctx, func(store.ReadTx) error {
		t.Error("View ran fn after Close")
		return nil
	}); !errors.Is(err, store.ErrClosed) {
		t.Errorf("View after Close = %v, want ErrClosed", err)
	}
	if _, err := s.Update(ctx, func(store.Tx) error {
		t.Error("Update ran fn after Close")
		return nil
	}); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Update after Close = %v, want ErrClosed", err)
	}
	if err := s.Watch(ctx, 0, func(store.Batch) error {
		t.Error("Watch ran fn after Close")
		return nil
	}); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Watch after Close = %v, want ErrClosed", err)
	}
	if _, err := s.Revision(ctx); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Revision after Close = %v, want ErrClosed", err)
	}
	if err := s.Close(); !errors.Is(err, store.ErrClosed) {
		t.Errorf("second Close = %v, want ErrClosed", err)
	}
}
