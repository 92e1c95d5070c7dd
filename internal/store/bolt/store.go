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

	// writeMu is held by the Update committing a batch, so that commits
	// (and history appends) happen in revision order.
	writeMu sync.Mutex
	queueMu sync.Mutex
	queue   []*pendingUpdate // Updates waiting for the next commit
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
//
// Concurrent Updates are committed together (group commit): while one
// commit is being synced, the calls that arrive queue up, and the next
// commit runs them one after another in a single bbolt transaction, each
// with its own revision, with one sync for all. When one of them fails, the
// transaction is rolled back, the failure is returned to its caller alone,
// and the others run again in a new transaction — which is why store.Tx
// functions may run more than once.
func (s *Store) Update(ctx context.Context, fn func(tx store.Tx) error) (store.Revision, error) {
	if s.closed.Load() {
		return 0, store.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	p := &pendingUpdate{ctx: ctx, fn: fn, done: make(chan struct{})}
	s.queueMu.Lock()
	s.queue = append(s.queue, p)
	s.queueMu.Unlock()

	s.writeMu.Lock()
	select {
	case <-p.done: // an earlier leader committed it
	default:
		s.queueMu.Lock()
		batch := s.queue
		s.queue = nil
		s.queueMu.Unlock()
		s.commit(batch)
	}
	s.writeMu.Unlock()
	if p.panicked {
		panic(p.panicVal)
	}
	return p.rev, p.err
}

// pendingUpdate is one Update waiting for a commit.
type pendingUpdate struct {
	ctx context.Context
	fn  func(tx store.Tx) error

	rev      store.Revision
	err      error
	panicked bool
	panicVal any
	done     chan struct{}
}

func (p *pendingUpdate) finish(rev store.Revision, err error) {
	p.rev, p.err = rev, err
	close(p.done)
}

// commit runs a batch of updates in as few transactions as their failures
// allow and finishes every one of them. Call with writeMu held.
func (s *Store) commit(batch []*pendingUpdate) {
	for len(batch) > 0 {
		if s.closed.Load() {
			for _, p := range batch {
				p.finish(0, store.ErrClosed)
			}
			return
		}
		batch = s.commitOnce(batch)
	}
}

// commitOnce runs the batch in one transaction. An update that fails
// before writing anything is finished with its error and the batch goes
// on. If one fails after writing, commitOnce rolls back, finishes it with
// its error and returns the others to run again; otherwise it commits and
// finishes them all.
func (s *Store) commitOnce(batch []*pendingUpdate) (again []*pendingUpdate) {
	btx, err := s.db.Begin(true)
	if err != nil {
		err = s.txError("update", err)
		for _, p := range batch {
			p.finish(0, err)
		}
		return nil
	}
	defer func() { _ = btx.Rollback() }() // no-op after Commit
	start, err := newReadTx(btx)
	if err != nil {
		err = fmt.Errorf("store/bolt: update: %w", err)
		for _, p := range batch {
			p.finish(0, err)
		}
		return nil
	}
	base := start.rev
	rev := base
	var ran []*pendingUpdate
	var batches []store.Batch
	var holds []func()
	defer func() {
		for _, release := range holds {
			release()
		}
	}()
	for i, p := range batch {
		if err := p.ctx.Err(); err != nil {
			p.finish(0, err)
			continue
		}
		if f := store.FenceFrom(p.ctx); f != nil {
			// A fenced Update commits only while its term lasts: the
			// term is held from here until the commit is durable (the
			// deferred releases), so it cannot end in between.
			release, err := holdFence(f)
			if err != nil {
				p.finish(0, err)
				continue
			}
			holds = append(holds, release)
		}
		// Each update reads what the ones before it in the batch wrote.
		wt := &writeTx{readTx: readTx{data: start.data, rev: rev}}
		panicked, panicVal, err := runUpdate(p.fn, wt)
		if err != nil && !panicked && wt.mutations == 0 {
			// It failed before writing anything (a validation error,
			// usually): the others need not run again.
			p.finish(0, err)
			continue
		}
		if err != nil || panicked {
			p.panicked, p.panicVal = panicked, panicVal
			p.finish(0, err)
			return append(ran, unfinished(batch[i+1:])...)
		}
		if len(wt.events) > 0 {
			rev++
			batches = append(batches, store.Batch{Revision: rev, Events: wt.events})
		}
		p.rev = rev
		ran = append(ran, p)
	}
	if rev > base {
		if err := writeRevision(btx.Bucket(metaBucket), rev); err != nil {
			err = fmt.Errorf("store/bolt: update: write revision %d: %w", rev, err)
			for _, p := range ran {
				p.finish(0, err)
			}
			return nil
		}
		if err := btx.Commit(); err != nil {
			err = fmt.Errorf("store/bolt: update: commit revision %d: %w", rev, err)
			for _, p := range ran {
				p.finish(0, err)
			}
			return nil
		}
		for _, b := range batches {
			s.hist.append(b)
		}
	}
	for _, p := range ran {
		p.finish(p.rev, nil)
	}
	return nil
}

// holdFence holds the term f, failing with store.ErrFenced when it has
// ended, and with an error naming the mismatch when f is not a term of a
// local session.
func holdFence(f store.Fence) (release func(), err error) {
	lf, ok := f.(store.LocalFence)
	if !ok {
		return nil, fmt.Errorf("store/bolt: update: the context is fenced by a term of another store (%T), not of a local session", f)
	}
	release, ok = lf.Hold()
	if !ok {
		return nil, store.ErrFenced
	}
	return release, nil
}

// unfinished returns the updates of batch that have not been finished.
func unfinished(batch []*pendingUpdate) []*pendingUpdate {
	var out []*pendingUpdate
	for _, p := range batch {
		select {
		case <-p.done:
		default:
			out = append(out, p)
		}
	}
	return out
}

// runUpdate runs fn on wt, turning a panic into a result.
func runUpdate(fn func(store.Tx) error, wt *writeTx) (panicked bool, panicVal any, err error) {
	defer func() {
		if r := recover(); r != nil {
			panicked, panicVal, err = true, r, fmt.Errorf("store/bolt: update panicked: %v", r)
		}
		wt.end()
	}()
	return false, nil, fn(wt)
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
