package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/store"
)

const (
	// timeout bounds every wait for something that must happen: long
	// enough that only a thing that never happens, not a loaded machine,
	// ends the wait.
	timeout = time.Minute
	// quiet is how long the suite waits to see that something does not
	// happen.
	quiet = 100 * time.Millisecond
)

var errBoom = errors.New("storetest: boom")

// update runs fn in an Update and fails t on error.
func update(t *testing.T, s store.Store, fn func(tx store.Tx) error) store.Revision {
	t.Helper()
	rev, err := s.Update(context.Background(), fn)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	return rev
}

// put stores key/value pairs (kv alternates keys and values) in one
// transaction and returns its revision.
func put(t *testing.T, s store.Store, kv ...string) store.Revision {
	t.Helper()
	if len(kv)%2 != 0 {
		t.Fatalf("put: odd number of arguments")
	}
	return update(t, s, func(tx store.Tx) error {
		for i := 0; i < len(kv); i += 2 {
			if err := tx.Put(kv[i], []byte(kv[i+1])); err != nil {
				return err
			}
		}
		return nil
	})
}

// del deletes keys in one transaction and returns the resulting revision.
func del(t *testing.T, s store.Store, keys ...string) store.Revision {
	t.Helper()
	return update(t, s, func(tx store.Tx) error {
		for _, k := range keys {
			if err := tx.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}

// get reads key in a View.
func get(t *testing.T, s store.Store, key string) (string, bool) {
	t.Helper()
	var (
		val string
		ok  bool
	)
	err := s.View(context.Background(), func(tx store.ReadTx) error {
		val, ok = getTx(t, tx, key)
		return nil
	})
	if err != nil {
		t.Fatalf("View: %v", err)
	}
	return val, ok
}

// getTx reads key in tx, failing t on error.
func getTx(t *testing.T, tx store.ReadTx, key string) (string, bool) {
	t.Helper()
	v, ok, err := tx.Get(key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	if !ok && v != nil {
		t.Errorf("Get(%q) = %q, false: want nil value for a missing key", key, v)
	}
	return string(v), ok
}

// wantValue fails t unless key holds want.
func wantValue(t *testing.T, s store.Store, key, want string) {
	t.Helper()
	if got, ok := get(t, s, key); !ok || got != want {
		t.Errorf("Get(%q) = %q, %v; want %q, true", key, got, ok, want)
	}
}

// wantMissing fails t unless key is absent.
func wantMissing(t *testing.T, s store.Store, key string) {
	t.Helper()
	if got, ok := get(t, s, key); ok {
		t.Errorf("Get(%q) = %q, true; want missing", key, got)
	}
}

// revision returns s.Revision, failing t on error.
func revision(t *testing.T, s store.Store) store.Revision {
	t.Helper()
	rev, err := s.Revision(context.Background())
	if err != nil {
		t.Fatalf("Revision: %v", err)
	}
	return rev
}

// scanAll returns "key=value" for every key Scan visits.
func scanAll(t *testing.T, tx store.ReadTx, prefix, start string) []string {
	t.Helper()
	var got []string
	err := tx.Scan(prefix, start, func(k string, v []byte) error {
		got = append(got, k+"="+string(v))
		return nil
	})
	if err != nil {
		t.Fatalf("Scan(%q, %q): %v", prefix, start, err)
	}
	return got
}

// pe and de build expected events.
func pe(key, value string) store.Event { return store.Event{Key: key, Value: []byte(value)} }
func de(key string) store.Event        { return store.Event{Key: key, Deleted: true} }

// checkBatch fails t (at once for a wrong revision) unless b is revision rev with exactly events want.
func checkBatch(t *testing.T, b store.Batch, rev store.Revision, want ...store.Event) {
	t.Helper()
	if b.Revision != rev {
		t.Fatalf("batch revision = %d %s, want %d", b.Revision, fmtEvents(b.Events), rev)
	}
	if !eventsEqual(b.Events, want) {
		t.Errorf("batch %d events = %s, want %s", b.Revision, fmtEvents(b.Events), fmtEvents(want))
	}
}

func eventsEqual(got, want []store.Event) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Key != w.Key || g.Deleted != w.Deleted || !bytes.Equal(g.Value, w.Value) {
			return false
		}
		if g.Deleted && g.Value != nil {
			return false
		}
	}
	return true
}

func fmtEvents(evs []store.Event) string {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, e := range evs {
		if i > 0 {
			b.WriteByte(' ')
		}
		if e.Deleted {
			fmt.Fprintf(&b, "-%q", e.Key)
			if e.Value != nil {
				fmt.Fprintf(&b, "(value %q)", e.Value)
			}
		} else {
			fmt.Fprintf(&b, "%q=%q", e.Key, e.Value)
		}
	}
	b.WriteByte(']')
	return b.String()
}

// watcher runs Watch in a goroutine and hands every batch to the test.
type watcher struct {
	batches chan store.Batch
	errc    chan error
	cancel  context.CancelFunc
	done    bool
	err     error
}

// startWatch watches s from the given revision. The watch is cancelled and
// waited for when the test ends; it must have returned by then.
func startWatch(t *testing.T, s store.Store, from store.Revision) *watcher {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := &watcher{
		batches: make(chan store.Batch, 4096),
		errc:    make(chan error, 1),
		cancel:  cancel,
	}
	go func() {
		w.errc <- s.Watch(ctx, from, func(b store.Batch) error {
			select {
			case w.batches <- b:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	t.Cleanup(func() {
		w.cancel()
		if !w.done {
			select {
			case w.err = <-w.errc:
				w.done = true
			case <-time.After(timeout):
				t.Errorf("Watch did not return %v after its context was cancelled", timeout)
			}
		}
	})
	return w
}

// next returns the next batch, failing t when none arrives in time.
func (w *watcher) next(t *testing.T) store.Batch {
	t.Helper()
	select {
	case b := <-w.batches:
		return b
	case err := <-w.errc:
		w.done, w.err = true, err
		t.Fatalf("Watch returned %v while a batch was expected", err)
	case <-time.After(timeout):
		t.Fatalf("no batch within %v", timeout)
	}
	panic("unreachable")
}

// expectNothing fails t when a batch arrives or Watch returns within quiet.
func (w *watcher) expectNothing(t *testing.T) {
	t.Helper()
	select {
	case b := <-w.batches:
		t.Errorf("unexpected batch %d %s", b.Revision, fmtEvents(b.Events))
	case err := <-w.errc:
		w.done, w.err = true, err
		t.Errorf("Watch returned early: %v", err)
	case <-time.After(quiet):
	}
}

// result waits for Watch to return on its own and returns its error.
func (w *watcher) result(t *testing.T) error {
	t.Helper()
	if w.done {
		return w.err
	}
	select {
	case w.err = <-w.errc:
		w.done = true
		return w.err
	case <-time.After(timeout):
		t.Fatalf("Watch did not return within %v", timeout)
	}
	panic("unreachable")
}

// stop cancels the watch and returns Watch's error.
func (w *watcher) stop(t *testing.T) error {
	t.Helper()
	w.cancel()
	return w.result(t)
}
