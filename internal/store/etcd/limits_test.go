package etcd

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stratusdns/stratus/internal/store"
)

// putN is an Update writing n keys of size bytes each.
func putN(s *Store, n, size int) (store.Revision, error) {
	v := []byte(strings.Repeat("v", size))
	return s.Update(context.Background(), func(tx store.Tx) error {
		for i := 0; i < n; i++ {
			if err := tx.Put(fmt.Sprintf("r/%07d", i), v); err != nil {
				return err
			}
		}
		return nil
	})
}

// TestUpdateLimits checks what an Update larger than etcd's default limits
// does: the largest one that fits commits, a larger one fails with an error
// naming the etcd limit and its flag, and writes nothing.
func TestUpdateLimits(t *testing.T) {
	s := openPrefix(t, t.TempDir()+"/")
	// --max-txn-ops 128: the commit adds the meta key's put and get.
	if _, err := putN(s, 126, 10); err != nil {
		t.Fatalf("126 keys: %v", err)
	}
	for _, tc := range []struct {
		name    string
		n, size int
		want    []string
	}{
		{"ops", 127, 10, []string{"129 operations", "--max-txn-ops"}},
		{"bytes", 10, 180 << 10, []string{"--max-request-bytes"}},
		{"bytes over grpc limit", 20, 180 << 10, []string{"--max-request-bytes"}},
	} {
		_, err := putN(s, tc.n, tc.size)
		for _, w := range tc.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%s: Update(%d keys of %d bytes) = %v, want an error containing %q", tc.name, tc.n, tc.size, err, w)
			}
		}
	}
	if rev, _ := s.Revision(context.Background()); rev != 1 {
		t.Errorf("revision %d after the failed Updates, want 1", rev)
	}
}

// TestUpdateManyReads checks that an Update reading more keys than etcd's
// --max-txn-ops commits (its compares collapse into the meta key's), and
// still runs fn again when one of those keys changed before the commit.
func TestUpdateManyReads(t *testing.T) {
	dir := t.TempDir()
	s, other := openPrefix(t, dir+"/"), openPrefix(t, dir+"/")
	for i := 0; i < 2; i++ {
		if _, err := s.Update(context.Background(), func(tx store.Tx) error {
			for j := 0; j < 100; j++ {
				if err := tx.Put(fmt.Sprintf("r/%07d", i*100+j), []byte("1")); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	runs := 0
	rev, err := s.Update(context.Background(), func(tx store.Tx) error {
		runs++
		sum := 0
		for i := 0; i < 200; i++ {
			v, _, err := tx.Get(fmt.Sprintf("r/%07d", i))
			if err != nil {
				return err
			}
			sum += len(v)
		}
		if runs == 1 {
			put(t, other, "r/0000199", "22")
		}
		return tx.Put("sum", []byte(fmt.Sprint(sum)))
	})
	if err != nil {
		t.Fatalf("Update reading 200 keys: %v", err)
	}
	if runs != 2 || rev != 4 {
		t.Errorf("runs = %d, revision = %d; want 2 runs at revision 4", runs, rev)
	}
	_ = s.View(context.Background(), func(tx store.ReadTx) error {
		if v, _, _ := tx.Get("sum"); string(v) != "201" {
			t.Errorf("sum = %q, want 201 (fn rerun on the other commit)", v)
		}
		return nil
	})
}

// TestUpdateRaisedLimits checks the largest Update an etcd started with
// --max-txn-ops 10000 --max-request-bytes 64MiB commits: 9998 keys (the
// commit adds two operations on the meta key); one more key fails.
func TestUpdateRaisedLimits(t *testing.T) {
	ep := ownEtcd(t, "http", readyWith(Options{}), "--max-txn-ops", "10000", "--max-request-bytes", fmt.Sprint(64<<20))
	s, err := Open(context.Background(), Options{Endpoints: []string{ep}, Prefix: "raised/"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := putN(s, 9998, 100); err != nil {
		t.Fatalf("9998 keys: %v", err)
	}
	if _, err := putN(s, 9999, 100); err == nil || !strings.Contains(err.Error(), "--max-txn-ops") {
		t.Errorf("9999 keys: %v, want an error naming --max-txn-ops", err)
	}
	if size := os.Getenv("STRATUS_ETCD_MEASURE_VALUE"); size != "" {
		// Measurement: STRATUS_ETCD_MEASURE_VALUE=6000 go test -run RaisedLimits -v
		n, _ := strconv.Atoi(size)
		_, err := putN(s, 9998, n)
		t.Logf("9998 keys of %d bytes: %v", n, err)
	}
}
