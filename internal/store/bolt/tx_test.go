package bolt

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/store"
)

// TestUpdatePanic checks that a panicking fn commits nothing and leaves the
// store usable.
func TestUpdatePanic(t *testing.T) {
	s := openClosed(t, filepath.Join(t.TempDir(), "stratus.db"), Options{})
	func() {
		defer func() {
			if recover() == nil {
				t.Error("Update did not propagate the panic")
			}
		}()
		_, _ = s.Update(context.Background(), func(tx store.Tx) error {
			if err := tx.Put("k", []byte("v")); err != nil {
				return err
			}
			panic("boom")
		})
	}()
	done := make(chan store.Revision, 1)
	go func() { done <- putKV(t, s, "other", "v") }()
	select {
	case rev := <-done:
		if rev != 1 {
			t.Errorf("revision after panicked Update = %d, want 1", rev)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Update blocked after a panicked Update")
	}
}

// TestTxAfterEnd checks that a transaction kept past its function fails
// cleanly instead of touching a closed bbolt transaction.
func TestTxAfterEnd(t *testing.T) {
	s := openClosed(t, filepath.Join(t.TempDir(), "stratus.db"), Options{})
	putKV(t, s, "k", "v")
	var rtx store.ReadTx
	_ = s.View(context.Background(), func(tx store.ReadTx) error { rtx = tx; return nil })
	if _, _, err := rtx.Get("k"); err == nil {
		t.Error("Get after View returned: no error")
	}
	if err := rtx.Scan("", "", func(string, []byte) error { return nil }); err == nil {
		t.Error("Scan after View returned: no error")
	}
	var wtx store.Tx
	_, _ = s.Update(context.Background(), func(tx store.Tx) error { wtx = tx; return nil })
	if err := wtx.Put("k", []byte("x")); err == nil {
		t.Error("Put after Update returned: no error")
	}
	if err := wtx.Delete("k"); err == nil {
		t.Error("Delete after Update returned: no error")
	}
}

// TestViewDoesNotBlockWriters checks that, with the default memory map,
// writers commit while a View stays open.
func TestViewDoesNotBlockWriters(t *testing.T) {
	s := openClosed(t, filepath.Join(t.TempDir(), "stratus.db"), Options{})
	ctx := context.Background()
	err := s.View(ctx, func(tx store.ReadTx) error {
		done := make(chan error, 1)
		go func() {
			value := []byte(strings.Repeat("v", 4096))
			for i := range 200 {
				key := "k/" + string(rune('a'+i%26)) + string(rune('a'+i/26))
				if _, err := s.Update(ctx, func(tx store.Tx) error { return tx.Put(key, value) }); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			t.Fatal("writers blocked by an open View")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
