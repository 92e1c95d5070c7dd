package etcd

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/stratusdns/stratus/internal/store"
)

// Store is a store.Store kept under a prefix of an etcd cluster.
type Store struct {
	cli       *clientv3.Client
	prefix    string // Options.Prefix
	user      string // Options.Username
	data      string // prefix of data keys
	meta      string // the meta key
	marks     string // prefix of deletion markers
	history   int
	timeout   time.Duration // Options.RequestTimeout
	endpoints string        // for errors

	closeOnce sync.Once
	closed    chan struct{}
	// head is the latest Stratus revision this store has seen committed
	// (by its own Updates or in a watch); watchers compare with it to
	// fall out of the retained history.
	head atomic.Int64

	// recent maps Stratus revisions seen lately (by reads of the head,
	// commits and watches) to an etcd revision at which the store was at
	// them, so Watch from a revision just read needs no search.
	recentMu sync.Mutex
	recent   map[store.Revision]int64
	// searchGets counts the reads etcdRevisionOf made (tests).
	searchGets atomic.Int64

	log *slog.Logger // Options.Logger, or a logger that drops everything
	// updates and reruns count the Updates committed (or found to change
	// nothing) and the times their fn ran again after a conflict.
	updates, reruns atomic.Int64
	// queues runs the Updates of one conflict key one at a time.
	queues queues
}

// recentRevisions bounds Store.recent.
const recentRevisions = 64

var _ store.Store = (*Store)(nil)

// Open connects to etcd and returns the store under opts.Prefix. It does
// not write anything: an empty prefix is an empty store at revision 0.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if err := opts.check(); err != nil {
		return nil, fmt.Errorf("store/etcd: %w", err)
	}
	dial := opts.DialTimeout
	if dial == 0 {
		dial = 5 * time.Second
	}
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   opts.Endpoints,
		TLS:         opts.TLS,
		Username:    opts.Username,
		Password:    opts.Password,
		DialTimeout: dial,
		Logger:      zap.NewNop(),
		// The etcd servers' --max-request-bytes bounds a commit, not
		// the client: commitError names that limit when it is hit.
		MaxCallSendMsgSize: math.MaxInt32,
		Context:            context.WithoutCancel(ctx),
	})
	if err != nil {
		return nil, fmt.Errorf("store/etcd: connect to %v: %w", opts.Endpoints, explain(ctx, &opts, dial, err))
	}
	s := &Store{
		cli:       cli,
		prefix:    opts.Prefix,
		user:      opts.Username,
		data:      opts.Prefix + "d/",
		meta:      opts.Prefix + "m/rev",
		marks:     opts.Prefix + "x/",
		history:   opts.HistoryRevisions,
		timeout:   cmp.Or(opts.RequestTimeout, 5*time.Second),
		endpoints: strings.Join(opts.Endpoints, ","),
		closed:    make(chan struct{}),
		recent:    make(map[store.Revision]int64, recentRevisions),
		log:       cmp.Or(opts.Logger, slog.New(slog.DiscardHandler)),
	}
	cctx, cancel := context.WithTimeout(ctx, dial)
	defer cancel()
	if _, err := s.readHead(cctx); err != nil {
		_ = cli.Close()
		return nil, fmt.Errorf("store/etcd: read %q at %v: %w", s.meta, opts.Endpoints, explain(ctx, &opts, dial, err))
	}
	return s, nil
}

func (s *Store) isClosed() bool {
	select {
	case <-s.closed:
		return true
	default:
		return false
	}
}

// head is the store's state as one read of the meta key saw it.
type head struct {
	rev     store.Revision // the Stratus revision
	etcdRev int64          // the etcd revision of the read
	metaMod int64          // the meta key's mod revision (0: empty store)
}

// readHead reads the meta key linearizably.
func (s *Store) readHead(ctx context.Context) (head, error) {
	resp, err := s.get(ctx, s.meta)
	if err != nil {
		return head{}, err
	}
	h := head{etcdRev: resp.Header.Revision}
	if len(resp.Kvs) > 0 {
		h.rev, h.metaMod = resp.Kvs[0].Version, resp.Kvs[0].ModRevision
	}
	s.seen(h.rev)
	s.remember(h.rev, h.etcdRev)
	return h, nil
}

// remember notes that the store was at rev at etcd revision etcdRev. When
// the map is full the oldest revision makes room.
func (s *Store) remember(rev store.Revision, etcdRev int64) {
	s.recentMu.Lock()
	defer s.recentMu.Unlock()
	if _, ok := s.recent[rev]; ok {
		s.recent[rev] = max(s.recent[rev], etcdRev)
		return
	}
	if len(s.recent) >= recentRevisions {
		oldest := rev
		for r := range s.recent {
			oldest = min(oldest, r)
		}
		if oldest == rev {
			return
		}
		delete(s.recent, oldest)
	}
	s.recent[rev] = etcdRev
}

// recentEtcdRevision returns the remembered etcd revision of rev.
func (s *Store) recentEtcdRevision(rev store.Revision) (int64, bool) {
	s.recentMu.Lock()
	defer s.recentMu.Unlock()
	e, ok := s.recent[rev]
	return e, ok
}

// seen raises head to rev.
func (s *Store) seen(rev store.Revision) {
	for {
		h := s.head.Load()
		if rev <= h || s.head.CompareAndSwap(h, rev) {
			return
		}
	}
}

// get is one etcd read, bounded by the request timeout.
func (s *Store) get(ctx context.Context, key string, opts ...clientv3.OpOption) (*clientv3.GetResponse, error) {
	rctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	resp, err := s.cli.Get(rctx, key, opts...)
	return resp, s.callErr(ctx, err, "read")
}

// callErr maps the error of one etcd request made under ctx: after Close
// it is store.ErrClosed; the caller's own cancellation stays as it is;
// a request timeout or an unreachable etcd wraps store.ErrUnavailable.
func (s *Store) callErr(ctx context.Context, err error, what string) error {
	switch {
	case err == nil:
		return nil
	case s.isClosed():
		return store.ErrClosed
	case ctx.Err() != nil:
		return err
	case unreachable(err):
		return fmt.Errorf("store/etcd: %s: etcd at %s did not answer within %v (%v): %w", what, s.endpoints, s.timeout, err, store.ErrUnavailable)
	}
	return err
}

// unreachable reports whether err says etcd did not answer, rather than
// refused the request.
func unreachable(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, rpctypes.ErrNoLeader) || errors.Is(err, rpctypes.ErrTimeout) ||
		errors.Is(err, rpctypes.ErrTimeoutDueToLeaderFail) || errors.Is(err, rpctypes.ErrTimeoutDueToConnectionLost) {
		return true
	}
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded:
		return true
	case codes.Unknown:
		// A member without quorum gives up on a read when the deadline
		// the request carried passes, and says so with code Unknown.
		return status.Convert(err).Message() == context.DeadlineExceeded.Error()
	}
	return false
}

// View runs fn on the state at one committed revision.
func (s *Store) View(ctx context.Context, fn func(tx store.ReadTx) error) error {
	if s.isClosed() {
		return store.ErrClosed
	}
	h, err := s.readHead(ctx)
	if err != nil {
		return err
	}
	tx := &readTx{s: s, ctx: ctx, rev: h.rev, etcdRev: h.etcdRev}
	defer func() { tx.done = true }()
	return fn(tx)
}

// Update runs fn optimistically and commits its writes in one etcd Txn,
// running fn again when a key it read changed in between, after a random
// wait that grows with each conflict. Updates under one conflict key
// (store.WithConflictKey) take turns in this process, in the order they
// came, so they conflict only with other processes' commits.
//
// A context fenced by a term of this store's sessions (Term.Fence) adds
// the compare "the term's candidate key still has the create revision it
// had when the term began" to the commit: when that fails, Update returns
// store.ErrFenced, having written nothing, and does not run fn again.
func (s *Store) Update(ctx context.Context, fn func(tx store.Tx) error) (store.Revision, error) {
	f, err := s.fenceOf(ctx)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	if key := store.ConflictKey(ctx); key != "" {
		release, err := s.queues.acquire(ctx, s.closed, key)
		if err != nil {
			return 0, err
		}
		defer release()
	}
	waited := time.Since(start)
	for run := 0; ; run++ {
		if run > 0 {
			t := time.NewTimer(backoff(run))
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return 0, ctx.Err()
			case <-s.closed:
				t.Stop()
				return 0, store.ErrClosed
			}
		}
		if s.isClosed() {
			return 0, store.ErrClosed
		}
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		if f != nil && ended(f.done) {
			return 0, store.ErrFenced
		}
		h, err := s.readHead(ctx)
		if err != nil {
			return 0, err
		}
		tx := &writeTx{readTx: readTx{s: s, ctx: ctx, rev: h.rev, etcdRev: h.etcdRev}, metaMod: h.metaMod, writes: map[string]*write{}, reads: map[string]int64{}, dirs: map[string]bool{}, fence: f}
		err = fn(tx)
		tx.done = true
		if err != nil {
			return 0, err
		}
		newRev, ok, err := tx.commit()
		if err != nil {
			return 0, err
		}
		if ok {
			s.seen(newRev)
			s.updates.Add(1)
			s.reruns.Add(int64(run))
			s.log.Debug("store/etcd: update committed", "revision", newRev, "reruns", run, "waited", waited, "took", time.Since(start))
			return newRev, nil
		}
		store.Conflicted(ctx)
	}
}

// fenceOf returns the fence ctx carries, failing when it is a term of
// another store.
func (s *Store) fenceOf(ctx context.Context) (*fence, error) {
	f := store.FenceFrom(ctx)
	if f == nil {
		return nil, nil
	}
	ef, ok := f.(*fence)
	if !ok {
		return nil, fmt.Errorf("store/etcd: update: the context is fenced by a term of another store (%T), not of an etcd session", f)
	}
	if ef.prefix != s.prefix {
		return nil, fmt.Errorf("store/etcd: update under prefix %q: the context is fenced by a term of the store under prefix %q", s.prefix, ef.prefix)
	}
	return ef, nil
}

func ended(done <-chan struct{}) bool {
	select {
	case <-done:
		return true
	default:
		return false
	}
}

// Revision returns the latest committed revision.
func (s *Store) Revision(ctx context.Context) (store.Revision, error) {
	if s.isClosed() {
		return 0, store.ErrClosed
	}
	h, err := s.readHead(ctx)
	return h.rev, err
}

// Close ends every Watch and closes the etcd client. The data stays in etcd.
func (s *Store) Close() error {
	err := store.ErrClosed
	s.closeOnce.Do(func() {
		close(s.closed)
		err = s.cli.Close()
		if errors.Is(err, context.Canceled) {
			err = nil
		}
	})
	return err
}
