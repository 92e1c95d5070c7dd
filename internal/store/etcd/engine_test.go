package etcd

import (
	"context"
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
