package etcd

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stratusdns/stratus/internal/store"
)

func openPrefix(t *testing.T, prefix string) *Store {
	t.Helper()
	s, err := Open(context.Background(), Options{Endpoints: []string{etcdEndpoint(t)}, Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// TestPrefixesIndependent checks that two stores on one etcd keep their own
// keys and their own dense revisions.
func TestPrefixesIndependent(t *testing.T) {
	base := t.TempDir()
	a, b := openPrefix(t, base+"/a/"), openPrefix(t, base+"/b/")
	ctx := context.Background()
	for i, s := range []*Store{a, b, a, a, b} {
		if _, err := s.Update(ctx, func(tx store.Tx) error { return tx.Put("k", []byte{byte('0' + i)}) }); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		s    *Store
		rev  store.Revision
		want string
	}{{a, 3, "3"}, {b, 2, "4"}} {
		if rev, _ := tc.s.Revision(ctx); rev != tc.rev {
			t.Errorf("%s: revision %d, want %d", tc.s.prefix, rev, tc.rev)
		}
		_ = tc.s.View(ctx, func(tx store.ReadTx) error {
			if v, _, _ := tx.Get("k"); string(v) != tc.want {
				t.Errorf("%s: k = %q, want %q", tc.s.prefix, v, tc.want)
			}
			return nil
		})
	}
}

// TestUpdateConflictReruns checks that a commit to a key fn read, between
// the read and the commit, makes Update run fn again on the new value.
func TestUpdateConflictReruns(t *testing.T) {
	dir := t.TempDir()
	s, other := openPrefix(t, dir+"/"), openPrefix(t, dir+"/")
	ctx := context.Background()
	if _, err := s.Update(ctx, func(tx store.Tx) error { return tx.Put("n", []byte("1")) }); err != nil {
		t.Fatal(err)
	}
	runs := 0
	rev, err := s.Update(ctx, func(tx store.Tx) error {
		runs++
		v, _, err := tx.Get("n")
		if err != nil {
			return err
		}
		if runs == 1 { // another server commits in between
			if _, err := other.Update(ctx, func(tx store.Tx) error { return tx.Put("n", []byte("2")) }); err != nil {
				return err
			}
		}
		return tx.Put("n", append(v, '+'))
	})
	if err != nil {
		t.Fatal(err)
	}
	if runs != 2 || rev != 3 {
		t.Errorf("runs = %d, revision = %d; want 2 runs at revision 3", runs, rev)
	}
	_ = s.View(ctx, func(tx store.ReadTx) error {
		if v, _, _ := tx.Get("n"); string(v) != "2+" {
			t.Errorf("n = %q, want 2+ (fn rerun on the other commit)", v)
		}
		return nil
	})
}

// watchChan runs Watch(from) until the test ends and sends its batches and
// then its error.
func watchChan(t *testing.T, s *Store, from store.Revision) (<-chan store.Batch, <-chan error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	bc, ec := make(chan store.Batch, 100), make(chan error, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		ec <- s.Watch(ctx, from, func(b store.Batch) error { bc <- b; return nil })
	}()
	t.Cleanup(func() { cancel(); <-done })
	return bc, ec
}

func put(t *testing.T, s *Store, kv ...string) store.Revision {
	t.Helper()
	rev, err := s.Update(context.Background(), func(tx store.Tx) error {
		for i := 0; i < len(kv); i += 2 {
			if err := tx.Put(kv[i], []byte(kv[i+1])); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return rev
}

// TestWatchPrefixesIsolated checks that a watcher of one prefix sees none
// of the commits under another prefix of the same etcd.
func TestWatchPrefixesIsolated(t *testing.T) {
	base := t.TempDir()
	a, b := openPrefix(t, base+"/a/"), openPrefix(t, base+"/b/")
	bc, ec := watchChan(t, a, 0)
	put(t, b, "k", "b1")
	put(t, b, "k", "b2")
	put(t, a, "k", "a1")
	select {
	case got := <-bc:
		if got.Revision != 1 || len(got.Events) != 1 || got.Events[0].Key != "k" || string(got.Events[0].Value) != "a1" {
			t.Errorf("first batch of a = %+v, want revision 1 with k=a1 only", got)
		}
	case err := <-ec:
		t.Fatalf("Watch: %v", err)
	}
}

// TestUpdateDisjointNoRerun checks that a commit to keys fn did not read,
// between fn's reads and its commit, does not make Update run fn again.
func TestUpdateDisjointNoRerun(t *testing.T) {
	dir := t.TempDir()
	s, other := openPrefix(t, dir+"/"), openPrefix(t, dir+"/")
	ctx := context.Background()
	put(t, s, "mine", "1", "theirs", "1")
	runs := 0
	rev, err := s.Update(ctx, func(tx store.Tx) error {
		runs++
		v, _, err := tx.Get("mine")
		if err != nil {
			return err
		}
		if runs == 1 {
			put(t, other, "theirs", "2")
		}
		return tx.Put("mine", append(v, '+'))
	})
	if err != nil {
		t.Fatal(err)
	}
	if runs != 1 || rev != 3 {
		t.Errorf("runs = %d, revision = %d; want 1 run at revision 3", runs, rev)
	}
}

// TestWatchEtcdCompacted checks that Watch from a revision etcd compacted
// away (the client's Compact) fails with store.ErrCompacted.
func TestWatchEtcdCompacted(t *testing.T) {
	s := openPrefix(t, t.TempDir()+"/")
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		put(t, s, "k", fmt.Sprint(i))
	}
	resp, err := s.cli.Get(ctx, s.meta)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.cli.Compact(ctx, resp.Kvs[0].ModRevision); err != nil {
		t.Fatal(err)
	}
	put(t, s, "k", "5")
	fresh := openPrefix(t, s.prefix) // nothing cached from the commits
	_, ec := watchChan(t, fresh, 1)
	if err := <-ec; !errors.Is(err, store.ErrCompacted) {
		t.Errorf("Watch(1) after etcd compaction = %v, want ErrCompacted", err)
	}
}

// TestWatchRecentNoSearch checks that Watch from a revision a View just
// read (the usual reload-then-follow) needs no search over etcd revisions,
// and still delivers every later batch.
func TestWatchRecentNoSearch(t *testing.T) {
	dir := t.TempDir()
	s, other := openPrefix(t, dir+"/"), openPrefix(t, dir+"/")
	put(t, s, "k", "1")
	var read store.Revision
	_ = s.View(context.Background(), func(tx store.ReadTx) error { read = tx.Revision(); return nil })
	put(t, other, "k", "2")
	put(t, other, "k", "3")
	before := s.searchGets.Load()
	bc, ec := watchChan(t, s, read)
	for want := read + 1; want <= 3; want++ {
		select {
		case b := <-bc:
			if b.Revision != want {
				t.Fatalf("batch %d, want %d", b.Revision, want)
			}
		case err := <-ec:
			t.Fatal(err)
		}
	}
	if n := s.searchGets.Load() - before; n != 0 {
		t.Errorf("Watch(%d) read etcd %d times to find its start, want 0", read, n)
	}
	// A store that never saw revision 1 searches, and finds it.
	fresh := openPrefix(t, dir+"/")
	bc, ec = watchChan(t, fresh, 1)
	select {
	case b := <-bc:
		if b.Revision != 2 || fresh.searchGets.Load() == 0 {
			t.Errorf("fresh Watch(1): batch %d after %d searches, want 2 after some", b.Revision, fresh.searchGets.Load())
		}
	case err := <-ec:
		t.Fatal(err)
	}
}

// TestWatchCompactedMidpoint checks that Watch from a revision etcd still
// serves works when the search for its etcd revision meets compacted
// revisions on the way.
func TestWatchCompactedMidpoint(t *testing.T) {
	s := openPrefix(t, t.TempDir()+"/")
	ctx := context.Background()
	for i := 1; i <= 20; i++ {
		put(t, s, "k", fmt.Sprint(i))
		if i == 15 {
			resp, err := s.cli.Get(ctx, s.meta)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.cli.Compact(ctx, resp.Kvs[0].ModRevision); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, tc := range []struct {
		from store.Revision
		want string // first batch's value, or "" for ErrCompacted
	}{{15, "16"}, {17, "18"}, {14, ""}, {1, ""}} {
		fresh := openPrefix(t, s.prefix) // nothing cached
		bc, ec := watchChan(t, fresh, tc.from)
		select {
		case b := <-bc:
			if tc.want == "" || string(b.Events[0].Value) != tc.want {
				t.Errorf("Watch(%d): first batch k=%s, want %q", tc.from, b.Events[0].Value, tc.want)
			}
		case err := <-ec:
			if tc.want != "" || !errors.Is(err, store.ErrCompacted) {
				t.Errorf("Watch(%d) = %v, want first batch k=%q", tc.from, err, tc.want)
			}
		}
	}
}

// TestWatchRecentCompacted checks that a remembered etcd revision that etcd
// compacted since does not fail a Watch the store can still serve: the
// store was at the same revision at etcd's compaction revision.
func TestWatchRecentCompacted(t *testing.T) {
	dir := t.TempDir()
	s, other, elsewhere := openPrefix(t, dir+"/s/"), openPrefix(t, dir+"/s/"), openPrefix(t, dir+"/e/")
	ctx := context.Background()
	put(t, s, "k", "1")
	read, err := s.Revision(ctx) // remembers the etcd revision of 1
	if err != nil {
		t.Fatal(err)
	}
	put(t, elsewhere, "k", "x") // etcd moves on, the store does not
	put(t, elsewhere, "k", "y")
	resp, err := elsewhere.cli.Get(ctx, elsewhere.meta)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.cli.Compact(ctx, resp.Header.Revision); err != nil {
		t.Fatal(err)
	}
	put(t, other, "k", "2")
	bc, ec := watchChan(t, s, read)
	select {
	case b := <-bc:
		if b.Revision != 2 {
			t.Errorf("Watch(1): batch %d, want 2", b.Revision)
		}
	case err := <-ec:
		t.Errorf("Watch(1) = %v, want batch 2", err)
	}
}
