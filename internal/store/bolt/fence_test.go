package bolt

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/store"
)

// testFence is a store.LocalFence a test ends by hand.
type testFence struct {
	mu      sync.Mutex
	ended   bool
	holders int
	done    chan struct{}
}

func newTestFence() *testFence { return &testFence{done: make(chan struct{})} }

func (f *testFence) Done() <-chan struct{} { return f.done }

func (f *testFence) Hold() (func(), bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ended {
		return nil, false
	}
	f.holders++
	return func() { f.mu.Lock(); f.holders--; f.mu.Unlock() }, true
}

// end ends the term without closing Done: only the check inside the
// write transaction can refuse the write.
func (f *testFence) end() {
	f.mu.Lock()
	f.ended = true
	f.mu.Unlock()
}

func (f *testFence) held() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.holders
}

// otherFence is a fence of another engine.
type otherFence struct{}

func (otherFence) Done() <-chan struct{} { return nil }

// TestFencedUpdate: an Update fenced with an ended local term fails with
// store.ErrFenced and writes nothing, also inside a group commit with
// others that succeed; with a live term it commits and gives the hold
// back; a fence of another engine is an error naming it.
func TestFencedUpdate(t *testing.T) {
	s := openClosed(t, filepath.Join(t.TempDir(), "stratus.db"), Options{})
	ctx := context.Background()
	f := newTestFence()
	fenced := store.WithFence(ctx, f)
	put := func(ctx context.Context, k string) error {
		_, err := s.Update(ctx, func(tx store.Tx) error { return tx.Put(k, []byte("v")) })
		return err
	}
	if err := put(fenced, "live"); err != nil {
		t.Fatalf("fenced Update with a live term: %v", err)
	}
	if n := f.held(); n != 0 {
		t.Fatalf("%d holds left after the commit", n)
	}
	f.end()
	rev := s.hist.current()
	// Several at once: the fenced one fails alone.
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := ctx
			if i == 3 {
				c = fenced
			}
			errs[i] = put(c, "k"+string(rune('0'+i)))
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if i == 3 && !errors.Is(err, store.ErrFenced) {
			t.Errorf("fenced Update after the term ended: %v, want ErrFenced", err)
		}
		if i != 3 && err != nil {
			t.Errorf("unfenced Update %d: %v", i, err)
		}
	}
	if got := s.hist.current(); got != rev+7 {
		t.Errorf("revision %d after 7 unfenced commits from %d", got, rev)
	}
	if _, ok := getKV(t, s, "k3"); ok {
		t.Error("the fenced Update wrote k3")
	}
	err := put(store.WithFence(ctx, otherFence{}), "x")
	if err == nil || errors.Is(err, store.ErrFenced) || !strings.Contains(err.Error(), "another store") {
		t.Errorf("Update fenced by another engine's term: %v", err)
	}
}

// TestFenceHeldUntilCommitted: the term is held from the check until the
// commit is durable, so it cannot end (Hold fails only after) in between.
func TestFenceHeldUntilCommitted(t *testing.T) {
	s := openClosed(t, filepath.Join(t.TempDir(), "stratus.db"), Options{})
	f := newTestFence()
	in := make(chan struct{})
	release := make(chan struct{})
	errc := make(chan error, 1)
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	defer func() {
		unblock()
		<-errc
	}()
	go func() {
		_, err := s.Update(store.WithFence(context.Background(), f), func(tx store.Tx) error {
			close(in)
			<-release
			return tx.Put("k", []byte("v"))
		})
		errc <- err
	}()
	select {
	case <-in:
	case <-time.After(time.Minute):
		t.Fatal("Update did not run")
	}
	if n := f.held(); n != 1 {
		t.Fatalf("fence held %d times while the Update runs, want 1", n)
	}
	unblock()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	errc <- nil // for the deferred wait
	if n := f.held(); n != 0 {
		t.Fatalf("fence held %d times after the commit", n)
	}
}

func getKV(t *testing.T, s store.Store, key string) (string, bool) {
	t.Helper()
	var v []byte
	var ok bool
	err := s.View(context.Background(), func(tx store.ReadTx) error {
		var err error
		v, ok, err = tx.Get(key)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(v), ok
}
