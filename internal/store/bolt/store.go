package bolt

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	bbolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/stratusdns/stratus/internal/store"
)

// fileMode is the permission of a newly created database file.
const fileMode = 0o600

var (
	dataBucket  = []byte("data")
	metaBucket  = []byte("meta")
	revisionKey = []byte("revision")
)

// Store is a store.Store kept in one bbolt file. Create it with Open.
type Store struct {
	path string
	db   *bbolt.DB

	// writeMu serializes Update so that history is appended in commit
	// order.
	writeMu sync.Mutex
	hist    *history

	closed    atomic.Bool
	done      chan struct{} // closed by Close; wakes watchers
	closeOnce sync.Once
}

var _ store.Store = (*Store)(nil)

// Open opens the store kept in the file at path, creating the file (mode
// 0600) and its buckets when missing. The directory must exist. When another
// Store holds the file, Open fails after opts.Timeout with an error wrapping
// ErrLocked.
func Open(path string, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	db, err := bbolt.Open(path, fileMode, &bbolt.Options{
		Timeout:         opts.Timeout,
		InitialMmapSize: opts.MmapBytes,
	})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("store/bolt: open %s: %w (waited %s)", path, ErrLocked, opts.Timeout)
	}
	if err != nil {
		return nil, fmt.Errorf("store/bolt: open %s: %w", path, err)
	}
	var rev store.Revision
	err = db.Update(func(tx *bbolt.Tx) error {
		if _, err := tx.CreateBucketIfNotExists(dataBucket); err != nil {
			return err
		}
		meta, err := tx.CreateBucketIfNotExists(metaBucket)
		if err != nil {
			return err
		}
		rev, err = readRevision(meta)
		return err
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("store/bolt: open %s: %w", path, err)
	}
	return &Store{
		path: path,
		db:   db,
		hist: newHistory(rev, opts.HistoryRevisions, opts.HistoryBytes),
		done: make(chan struct{}),
	}, nil
}

// Path returns the path of the database file.
func (s *Store) Path() string { return s.path }

// Revision returns the latest committed revision.
func (s *Store) Revision(ctx context.Context) (store.Revision, error) {
	if s.closed.Load() {
		return 0, store.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	return s.hist.current(), nil
}

// View runs fn in a read-only bbolt transaction.
func (s *Store) View(ctx context.Context, fn func(tx store.ReadTx) error) error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	btx, err := s.db.Begin(false)
	if err != nil {
		return s.txError("view", err)
	}
	defer func() { _ = btx.Rollback() }()
	rt, err := newReadTx(btx)
	if err != nil {
		return fmt.Errorf("store/bolt: view: %w", err)
	}
	defer rt.end()
	return fn(rt)
}

// Update runs fn in a read-write bbolt transaction and commits it, with the
// next revision, when fn succeeds and changed at least one key. The
// resulting Batch is appended to the watch history before Update returns.
func (s *Store) Update(ctx context.Context, fn func(tx store.Tx) error) (store.Revision, error) {
	if s.closed.Load() {
		return 0, store.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := ctx.Err(); err != nil {
		return 0, err
	}

	btx, err := s.db.Begin(true)
	if err != nil {
		return 0, s.txError("update", err)
	}
	defer func() { _ = btx.Rollback() }() // no-op after Commit
	wt, err := newWriteTx(btx)
	if err != nil {
		return 0, fmt.Errorf("store/bolt: update: %w", err)
	}
	defer wt.end()
	if err := fn(wt); err != nil {
		return 0, err
	}
	if len(wt.events) == 0 {
		return wt.rev, nil
	}

	next := wt.rev + 1
	if err := writeRevision(wt.meta, next); err != nil {
		return 0, fmt.Errorf("store/bolt: update: write revision %d: %w", next, err)
	}
	if err := btx.Commit(); err != nil {
		return 0, fmt.Errorf("store/bolt: update: commit revision %d: %w", next, err)
	}
	s.hist.append(store.Batch{Revision: next, Events: wt.events})
	return next, nil
}

// Close closes the file and makes watchers return store.ErrClosed. It waits
// for running View and Update calls to finish. Calls after Close return
// store.ErrClosed.
func (s *Store) Close() error {
	err := store.ErrClosed
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		close(s.done)
		err = nil
		if cerr := s.db.Close(); cerr != nil {
			err = fmt.Errorf("store/bolt: close %s: %w", s.path, cerr)
		}
	})
	return err
}

// txError maps an error from beginning a bbolt transaction.
func (s *Store) txError(op string, err error) error {
	if errors.Is(err, bolterrors.ErrDatabaseNotOpen) {
		return store.ErrClosed
	}
	return fmt.Errorf("store/bolt: %s: %w", op, err)
}

// readRevision decodes the revision stored in the meta bucket.
func readRevision(meta *bbolt.Bucket) (store.Revision, error) {
	v := meta.Get(revisionKey)
	if v == nil {
		return 0, nil
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("corrupt revision: %d bytes, want 8", len(v))
	}
	rev := binary.BigEndian.Uint64(v)
	if rev > 1<<63-1 {
		return 0, fmt.Errorf("corrupt revision: %d out of range", rev)
	}
	return store.Revision(rev), nil
}

// writeRevision stores rev in the meta bucket.
func writeRevision(meta *bbolt.Bucket, rev store.Revision) error {
	return meta.Put(revisionKey, binary.BigEndian.AppendUint64(nil, uint64(rev)))
}
