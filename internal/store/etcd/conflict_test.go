package etcd

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/stratusdns/stratus/internal/store"
)

func TestMarkerDirs(t *testing.T) {
	for _, tc := range []struct {
		prefix, dir string // markerDir
	}{
		{"", ""},
		{"zones", ""},
		{"zones/", "zones/"},
		{"zones/ex", "zones/"},
		{"rrsets/example.com/", "rrsets/example.com/"},
		{"rrsets/example.com/www/", "rrsets/example.com/"},
		{"rrsets/example.com/www/A", "rrsets/example.com/"},
		{"/", "/"},
		{"//x", "//"},
	} {
		if got := markerDir(tc.prefix); got != tc.dir {
			t.Errorf("markerDir(%q) = %q, want %q", tc.prefix, got, tc.dir)
		}
	}
	for _, tc := range []struct {
		key  string
		dirs []string
	}{
		{"k", []string{""}},
		{"zones/ex", []string{"", "zones/"}},
		{"a/", []string{"", "a/"}},
		{"journal/ex/0001", []string{"", "journal/", "journal/ex/"}},
		{"rrsets/ex/www/A", []string{"", "rrsets/", "rrsets/ex/"}},
	} {
		if got := markerDirs(tc.key); !slices.Equal(got, tc.dirs) {
			t.Errorf("markerDirs(%q) = %q, want %q", tc.key, got, tc.dirs)
		}
		// Every prefix of a key is covered by a marker its delete moves.
		for i := 0; i <= len(tc.key); i++ {
			if d := markerDir(tc.key[:i]); !slices.Contains(markerDirs(tc.key), d) {
				t.Errorf("a delete of %q does not move the marker %q of its prefix %q", tc.key, d, tc.key[:i])
			}
		}
	}
}

func TestMergeRanges(t *testing.T) {
	got := mergeRanges([]keyRange{{"c", "d", 1}, {"a", "b", 2}, {"a", "a\x00", 1}, {"b", "c", 3}, {"x", "y", 4}})
	want := []keyRange{{"a", "d", 7}, {"x", "y", 4}}
	if !slices.Equal(got, want) {
		t.Errorf("mergeRanges = %v, want %v", got, want)
	}
}

// TestDeleteMarkersHidden checks that the deletion markers a delete
// writes are no store key: not in a Scan, a Count or a Watch, and no
// revision of their own; and that they are in etcd, under the prefix.
func TestDeleteMarkersHidden(t *testing.T) {
	s := openPrefix(t, t.TempDir()+"/")
	ctx := context.Background()
	bc, ec := watchChan(t, s, 0)
	put(t, s, "a/b/c", "1", "z", "2")
	rev, err := s.Update(ctx, func(tx store.Tx) error { return tx.Delete("a/b/c") })
	if err != nil || rev != 2 {
		t.Fatalf("delete: revision %d, %v; want 2", rev, err)
	}
	put(t, s, "z", "3")
	var want []string
	for i := 0; i < 3; i++ {
		select {
		case b := <-bc:
			for _, e := range b.Events {
				want = append(want, fmt.Sprintf("%d:%s:%v", b.Revision, e.Key, e.Deleted))
			}
		case err := <-ec:
			t.Fatalf("Watch: %v", err)
		case <-time.After(time.Minute):
			t.Fatal("no batch from Watch within a minute")
		}
	}
	if w := []string{"1:a/b/c:false", "1:z:false", "2:a/b/c:true", "3:z:false"}; !slices.Equal(want, w) {
		t.Errorf("watched %q, want %q", want, w)
	}
	_ = s.View(ctx, func(tx store.ReadTx) error {
		var keys []string
		_ = tx.Scan("", "", func(k string, _ []byte) error { keys = append(keys, k); return nil })
		n, _ := tx.Count("")
		if !slices.Equal(keys, []string{"z"}) || n != 1 || tx.Revision() != 3 {
			t.Errorf("Scan = %q, Count = %d at revision %d; want [z], 1 at 3", keys, n, tx.Revision())
		}
		return nil
	})
	resp, err := s.cli.Get(ctx, s.marks, clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		t.Fatal(err)
	}
	var marks []string
	for _, kv := range resp.Kvs {
		marks = append(marks, strings.TrimPrefix(string(kv.Key), s.prefix))
	}
	if w := []string{"x/", "x/a/", "x/a/b/"}; !slices.Equal(marks, w) {
		t.Errorf("markers %q, want %q", marks, w)
	}
}

// TestWideRangeComparesMeta checks that an Update that read a range of
// more than maxRangeKeys keys compares the meta key (a disjoint commit
// makes it run again) and one of maxRangeKeys does not.
func TestWideRangeComparesMeta(t *testing.T) {
	dir := t.TempDir()
	s, other := openPrefix(t, dir+"/"), openPrefix(t, dir+"/")
	ctx := context.Background()
	for i := 0; i < maxRangeKeys+1; i += 100 {
		if _, err := s.Update(ctx, func(tx store.Tx) error {
			for j := i; j < min(i+100, maxRangeKeys+1); j++ {
				if err := tx.Put(fmt.Sprintf("r/%05d", j), []byte("1")); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name string
		read func(tx store.Tx) error
		runs int
	}{
		{"scan of maxRangeKeys", func(tx store.Tx) error {
			return tx.Scan("r/", "r/00000", func(string, []byte) error { return nil })
		}, 1},
		{"count of maxRangeKeys", func(tx store.Tx) error { _, err := tx.Count("r/00"); return err }, 1},
		{"scan of maxRangeKeys+1", func(tx store.Tx) error {
			return tx.Scan("r/", "", func(string, []byte) error { return nil })
		}, 2},
		{"count of maxRangeKeys+1", func(tx store.Tx) error { _, err := tx.Count("r/"); return err }, 2},
	} {
		runs := 0
		_, err := s.Update(ctx, func(tx store.Tx) error {
			runs++
			if err := tc.read(tx); err != nil {
				return err
			}
			if runs == 1 {
				put(t, other, "elsewhere", tc.name)
			}
			return tx.Put("out", []byte(tc.name))
		})
		if err != nil || runs != tc.runs {
			t.Errorf("%s: %d runs, %v; want %d", tc.name, runs, err, tc.runs)
		}
	}
}
