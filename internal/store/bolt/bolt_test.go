package bolt

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/stratusdns/stratus/internal/store"
	"github.com/stratusdns/stratus/internal/store/storetest"
)

// TestConformance runs the engine-independent store suite.
func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Factory{
		Open: func(t *testing.T, dir string, history int) store.Store {
			return openTest(t, filepath.Join(dir, "stratus.db"), Options{HistoryRevisions: history})
		},
	})
}

// openTest opens a store and fails tb on error. The caller closes it.
func openTest(tb testing.TB, path string, opts Options) *Store {
	tb.Helper()
	s, err := Open(path, opts)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	return s
}

// openClosed opens a store that is closed when the test ends.
func openClosed(t *testing.T, path string, opts Options) *Store {
	t.Helper()
	s := openTest(t, path, opts)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func putKV(t *testing.T, s store.Store, key, value string) store.Revision {
	t.Helper()
	rev, err := s.Update(context.Background(), func(tx store.Tx) error {
		return tx.Put(key, []byte(value))
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	return rev
}

func TestPathAndFileMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stratus.db")
	s := openClosed(t, path, Options{})
	if s.Path() != path {
		t.Errorf("Path = %q, want %q", s.Path(), path)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("file mode = %v, want 0600", perm)
	}
}

func TestOpenErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing-dir", "stratus.db")
	_, err := Open(path, Options{})
	if err == nil || !strings.Contains(err.Error(), "store/bolt: open "+path) {
		t.Errorf("Open in a missing directory = %v, want an error naming %s", err, path)
	}

	// An existing bbolt file without the Stratus buckets gets them.
	other := filepath.Join(t.TempDir(), "other.db")
	db, err := bbolt.Open(other, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	s := openClosed(t, other, Options{})
	if got := putKV(t, s, "k", "v"); got != 1 {
		t.Errorf("revision of first write to an empty bbolt file = %d, want 1", got)
	}
}

func TestOpenLockedInProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stratus.db")
	openClosed(t, path, Options{})
	s2, err := Open(path, Options{Timeout: 100 * time.Millisecond})
	if err == nil {
		_ = s2.Close()
		t.Fatal("second Open of the same file succeeded")
	}
	if !errors.Is(err, ErrLocked) {
		t.Errorf("second Open = %v, want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "another process holds") {
		t.Errorf("error %q does not name the path and the lock", err)
	}
}

func TestReopenAfterCloseKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stratus.db")
	s := openTest(t, path, Options{})
	for i := range 20 {
		putKV(t, s, "k", string(rune('a'+i)))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openClosed(t, path, Options{})
	if rev, _ := s.Revision(context.Background()); rev != 20 {
		t.Errorf("Revision after reopen = %d, want 20", rev)
	}
}

// TestLayout checks the on-disk layout documented in the package comment.
func TestLayout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stratus.db")
	s := openTest(t, path, Options{})
	putKV(t, s, "zone/example.org", "v1")
	putKV(t, s, "zone/example.org", "v2")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(func(tx *bbolt.Tx) error {
		rev := tx.Bucket([]byte("meta")).Get([]byte("revision"))
		if len(rev) != 8 || binary.BigEndian.Uint64(rev) != 2 {
			t.Errorf("meta/revision = %x, want big-endian 2", rev)
		}
		if v := tx.Bucket([]byte("data")).Get([]byte("zone/example.org")); string(v) != "v2" {
			t.Errorf("data/zone/example.org = %q, want v2", v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
