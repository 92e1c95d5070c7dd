package etcd

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/store"
	"github.com/stratusdns/stratus/internal/store/storetest"
)

// sessionTTL is the ttl of the sessions the tests open: etcd's smallest
// lease (etcd 3.4 with its default election timeout raises a shorter one
// to 2 s).
const sessionTTL = 2 * time.Second

// TestSessions runs the session suite against a real etcd: each test its
// own prefix, each node its own client.
func TestSessions(t *testing.T) {
	ep := etcdEndpoint(t)
	storetest.RunSessions(t, storetest.SessionFactory{
		TTL: sessionTTL,
		Cluster: func(t *testing.T) func(*testing.T) (store.Shared, store.Store) {
			prefix := t.TempDir() + "/"
			return func(t *testing.T) (store.Shared, store.Store) {
				s, err := Open(context.Background(), Options{Endpoints: []string{ep}, Prefix: prefix})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = s.Close() })
				return s, s
			}
		},
	})
}

// TestFenceRefusedByEtcd: the fence is the store's compare, not the
// term's own belief. A fence whose term's key is gone (or was created
// again) fails the commit with ErrFenced, fn run once, nothing written,
// also when the read set changed too; a live fence with a changed read set
// runs fn again and commits.
func TestFenceRefusedByEtcd(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, other := openPrefix(t, dir+"/"), openPrefix(t, dir+"/")
	se, err := s.Session(ctx, "a", sessionTTL)
	if err != nil {
		t.Fatal(err)
	}
	defer se.Close()
	term, err := se.Campaign(ctx, "e", []byte("a"))
	if err != nil {
		t.Fatal(err)
	}
	live := term.Fence(ctx)
	f := store.FenceFrom(live).(*fence)
	// A stale fence: same key, the create revision of an earlier term;
	// its Done never closes, so only etcd can refuse it.
	stale := store.WithFence(ctx, &fence{prefix: f.prefix, key: f.key, created: f.created - 1, done: make(chan struct{})})

	if _, err := s.Update(ctx, func(tx store.Tx) error { return tx.Put("n", []byte("0")) }); err != nil {
		t.Fatal(err)
	}
	rev, _ := s.Revision(ctx)
	for _, conflict := range []bool{false, true} {
		runs := 0
		_, err := s.Update(stale, func(tx store.Tx) error {
			runs++
			if _, _, err := tx.Get("n"); err != nil {
				return err
			}
			if conflict && runs == 1 {
				if _, err := other.Update(ctx, func(tx store.Tx) error { return tx.Put("n", []byte("other")) }); err != nil {
					return err
				}
				rev++
			}
			return tx.Put("n", []byte("stale"))
		})
		if !errors.Is(err, store.ErrFenced) || runs != 1 {
			t.Fatalf("conflict %v: stale fence: %v after %d runs, want ErrFenced after 1", conflict, err, runs)
		}
		if r, _ := s.Revision(ctx); r != rev {
			t.Fatalf("stale fence: store at %d, want %d", r, rev)
		}
	}
	runs := 0
	if _, err := s.Update(live, func(tx store.Tx) error {
		runs++
		if _, _, err := tx.Get("n"); err != nil {
			return err
		}
		if runs == 1 {
			if _, err := other.Update(ctx, func(tx store.Tx) error { return tx.Put("n", []byte("other2")) }); err != nil {
				return err
			}
		}
		return tx.Put("n", []byte("live"))
	}); err != nil || runs != 2 {
		t.Fatalf("live fence with a conflict: %v after %d runs, want success after 2", err, runs)
	}

	// A fence of another prefix is an error, not a silent pass.
	foreign := openPrefix(t, t.TempDir()+"/")
	if _, err := foreign.Update(live, func(tx store.Tx) error { return tx.Put("x", nil) }); err == nil || errors.Is(err, store.ErrFenced) {
		t.Fatalf("Update fenced by another prefix's term: %v", err)
	}
}

// TestWatchEphemeralCompacted: an etcd watch that starts after a
// compaction of the revisions it needs reloads and sends a Reset batch
// again, with the changes made in between.
func TestWatchEphemeralCompacted(t *testing.T) {
	ctx := context.Background()
	s := openPrefix(t, t.TempDir()+"/")
	a, err := s.Session(ctx, "a", sessionTTL)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := a.Put(ctx, "k1", []byte("1")); err != nil {
		t.Fatal(err)
	}
	var loads atomic.Int32
	afterEphemeralLoad = func() {
		if loads.Add(1) != 1 {
			return
		}
		// Between the first load and its watch: a change, then a
		// compaction past it.
		if err := a.Put(ctx, "k2", []byte("2")); err != nil {
			t.Error(err)
		}
		resp, err := s.cli.Put(ctx, s.prefix+"unrelated", "")
		if err != nil {
			t.Error(err)
			return
		}
		if _, err := s.cli.Compact(ctx, resp.Header.Revision); err != nil {
			t.Error(err)
		}
	}
	defer func() { afterEphemeralLoad = nil }()
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var got []store.EphemeralBatch
	err = a.WatchEphemeral(wctx, "", func(b store.EphemeralBatch) error {
		got = append(got, b)
		if len(got) == 2 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("WatchEphemeral: %v", err)
	}
	if len(got) != 2 || !got[0].Reset || !got[1].Reset || len(got[0].Events) != 1 || len(got[1].Events) != 2 {
		t.Fatalf("batches %+v, want a Reset with k1, then a Reset with k1 and k2", got)
	}
}
