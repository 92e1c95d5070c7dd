package server

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/stratusdns/stratus/internal/config"
	"github.com/stratusdns/stratus/internal/store"
	"github.com/stratusdns/stratus/internal/store/bolt"
)

// Bounds of one write transaction of CopyStore, inside etcd's default
// limits (--max-txn-ops 128, --max-request-bytes 1.5 MiB) with room for
// the engine's own key.
const (
	copyMaxKeys  = 100
	copyMaxBytes = 1 << 20
	// On etcd a delete also puts up to three deletion markers (the
	// root and the key's first two directories; see store/etcd), so
	// 40 deletes take at most 40 + 1 + 80 + 2 operations.
	copyMaxDeletes = 40
)

// ErrNotEmpty means the destination of CopyStore holds keys.
var ErrNotEmpty = errors.New("the destination must be empty (--force deletes its keys first)")

// StoreSpec names a store: a bbolt file or a prefix in etcd.
type StoreSpec struct {
	Bolt string       // the file, for a bbolt store
	Etcd *config.Etcd // for an etcd store (checked)
	// Name names a key of Etcd in errors.
	Name func(key string) string
}

func (s StoreSpec) String() string {
	if s.Etcd != nil {
		hosts := make([]string, len(s.Etcd.Endpoints))
		for i, e := range s.Etcd.Endpoints {
			_, hosts[i], _ = strings.Cut(e, "://")
		}
		return "etcd://" + strings.Join(hosts, ",") + "/" + s.Etcd.Prefix
	}
	return "bolt:" + s.Bolt
}

// open opens the store; a source bbolt file must exist and be free.
func (s StoreSpec) open(ctx context.Context, source bool) (store.Store, error) {
	if s.Etcd != nil {
		return OpenEtcd(ctx, s.Etcd, s.Name, nil)
	}
	if source {
		if _, err := os.Stat(s.Bolt); err != nil {
			return nil, fmt.Errorf("%s: %w", s, err)
		}
	} else if _, err := os.Stat(filepath.Dir(s.Bolt)); err != nil {
		return nil, fmt.Errorf("%s: %w", s, err)
	}
	st, err := bolt.Open(s.Bolt, bolt.Options{Timeout: 200 * time.Millisecond})
	if errors.Is(err, bolt.ErrLocked) {
		return nil, fmt.Errorf("%s is in use by a running server: stop it first (%w)", s.Bolt, err)
	}
	return st, err
}

// digest counts keys and values and hashes them in key order.
type digest struct {
	keys, bytes int
	h           hash.Hash
}

func newDigest() *digest { return &digest{h: sha256.New()} }

func (d *digest) add(k string, v []byte) {
	var n [binary.MaxVarintLen64]byte
	d.h.Write(n[:binary.PutUvarint(n[:], uint64(len(k)))])
	d.h.Write([]byte(k))
	d.h.Write(n[:binary.PutUvarint(n[:], uint64(len(v)))])
	d.h.Write(v)
	d.keys++
	d.bytes += len(k) + len(v)
}

func (d *digest) sum() string { return fmt.Sprintf("%x", d.h.Sum(nil)) }

// read digests every key of st.
func read(ctx context.Context, st store.Store) (*digest, error) {
	d := newDigest()
	err := st.View(ctx, func(tx store.ReadTx) error {
		return tx.Scan("", "", func(k string, v []byte) error { d.add(k, v); return nil })
	})
	return d, err
}

// CopyStore copies every key and value of from into to (empty, or
// emptied first with force) in transactions within etcd's default limits,
// then compares the two: count and SHA-256 of every key and value. It
// writes what it did to w. No server may write to from meanwhile; a bbolt
// file held by one is refused.
func CopyStore(ctx context.Context, from, to StoreSpec, force bool, w io.Writer) error {
	src, err := from.open(ctx, true)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := to.open(ctx, false)
	if err != nil {
		return err
	}
	defer dst.Close()

	var n int
	if err := dst.View(ctx, func(tx store.ReadTx) error { n, err = tx.Count(""); return err }); err != nil {
		return fmt.Errorf("reading %s: %w", to, err)
	}
	if n > 0 && !force {
		return fmt.Errorf("%s holds %d keys: %w", to, n, ErrNotEmpty)
	}
	if n > 0 {
		if err := clearStore(ctx, dst); err != nil {
			return fmt.Errorf("emptying %s: %w", to, err)
		}
		fmt.Fprintf(w, "deleted %d keys from %s\n", n, to)
	}

	want := newDigest()
	txs := 0
	var batchKeys []string
	var batchVals [][]byte
	size := 0
	flush := func() error {
		if len(batchKeys) == 0 {
			return nil
		}
		_, err := dst.Update(ctx, func(tx store.Tx) error {
			for i, k := range batchKeys {
				if err := tx.Put(k, batchVals[i]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("writing %s: %w", to, err)
		}
		txs++
		batchKeys, batchVals, size = batchKeys[:0], batchVals[:0], 0
		return nil
	}
	err = src.View(ctx, func(tx store.ReadTx) error {
		return tx.Scan("", "", func(k string, v []byte) error {
			if len(batchKeys) > 0 && (len(batchKeys) == copyMaxKeys || size+len(k)+len(v) > copyMaxBytes) {
				if err := flush(); err != nil {
					return err
				}
			}
			want.add(k, v)
			batchKeys = append(batchKeys, k)
			batchVals = append(batchVals, append([]byte(nil), v...))
			size += len(k) + len(v)
			return nil
		})
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return fmt.Errorf("copying %s to %s: %w", from, to, err)
	}

	got, err := read(ctx, dst)
	if err != nil {
		return fmt.Errorf("verifying %s: %w", to, err)
	}
	again, err := read(ctx, src)
	if err != nil {
		return fmt.Errorf("verifying %s: %w", from, err)
	}
	if got.keys != want.keys || got.sum() != want.sum() || again.sum() != want.sum() {
		return fmt.Errorf("verification failed: %s has %d keys (sha256 %s), %s has %d keys (sha256 %s)",
			from, again.keys, again.sum(), to, got.keys, got.sum())
	}
	fmt.Fprintf(w, "copied %d keys (%d bytes) from %s to %s in %d transactions\nverified: %d keys on both sides, sha256 %s\n",
		want.keys, want.bytes, from, to, txs, got.keys, got.sum())
	return nil
}

// clearStore deletes every key of st, in transactions of copyMaxDeletes.
func clearStore(ctx context.Context, st store.Store) error {
	for {
		var keys []string
		err := st.View(ctx, func(tx store.ReadTx) error {
			return tx.Scan("", "", func(k string, _ []byte) error {
				keys = append(keys, k)
				if len(keys) == copyMaxDeletes {
					return store.ErrStopScan
				}
				return nil
			})
		})
		if err != nil || len(keys) == 0 {
			return err
		}
		if _, err := st.Update(ctx, func(tx store.Tx) error {
			for _, k := range keys {
				if err := tx.Delete(k); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return err
		}
	}
}
