package etcd

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/stratusdns/stratus/internal/store"
)

// Watch calls fn with every batch after from; see store.Store.
func (s *Store) Watch(ctx context.Context, from store.Revision, fn func(store.Batch) error) error {
	if s.isClosed() {
		return store.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	h, err := s.readHead(ctx)
	if err != nil {
		return err
	}
	cur := h.rev
	if s.compacted(from, cur) {
		return fmt.Errorf("store/etcd: watch from %d at %d with history %d: %w", from, cur, s.history, store.ErrCompacted)
	}
	start := h.etcdRev // an etcd revision at which the store is at from
	if from < cur {
		var ok bool
		if start, ok = s.recentEtcdRevision(from); !ok {
			start, err = s.etcdRevisionOf(ctx, from, h.etcdRev)
			if err != nil {
				return err
			}
		}
	}

	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-s.closed:
			cancel()
		case <-wctx.Done():
		}
	}()
	last := from // the last revision delivered
	for {
		compactRev, err := s.watchFrom(wctx, ctx, start, &last, fn)
		if err != nil || compactRev == 0 {
			return err
		}
		// etcd compacted past start: if the store was still at last at
		// the compaction revision, watch from there instead.
		r, err := s.get(ctx, s.meta, clientv3.WithRev(compactRev))
		if err != nil && !errors.Is(err, rpctypes.ErrCompacted) {
			return err
		}
		if err != nil || metaVersion(r) != last {
			return fmt.Errorf("store/etcd: watch from %d: etcd compacted to %d: %w", last, compactRev, store.ErrCompacted)
		}
		start = compactRev
	}
}

// watchFrom runs one etcd watch of the prefix after etcd revision start,
// delivering the batches after *last to fn and advancing *last. It returns
// etcd's compact revision when etcd compacted past start.
func (s *Store) watchFrom(wctx, ctx context.Context, start int64, last *store.Revision, fn func(store.Batch) error) (int64, error) {
	// The data keys and the meta key, not the deletion markers.
	wch := s.cli.Watch(clientv3.WithRequireLeader(wctx), s.data, clientv3.WithRange(clientv3.GetPrefixRangeEnd(s.meta)), clientv3.WithRev(start+1))
	for resp := range wch {
		if resp.CompactRevision != 0 {
			return resp.CompactRevision, nil
		}
		if errors.Is(resp.Err(), rpctypes.ErrCompacted) {
			return 0, fmt.Errorf("store/etcd: watch from %d: %w", *last, store.ErrCompacted)
		}
		if err := resp.Err(); err != nil {
			if s.isClosed() {
				return 0, store.ErrClosed
			}
			if ctx.Err() != nil {
				return 0, ctx.Err()
			}
			return 0, fmt.Errorf("store/etcd: watch: %w", err)
		}
		batches := s.batches(resp.Events)
		for i, b := range batches {
			if b.Revision <= *last {
				continue
			}
			if s.compacted(b.Revision-1, s.head.Load()) {
				return 0, fmt.Errorf("store/etcd: watcher at %d fell behind the history of %d revisions: %w", b.Revision-1, s.history, store.ErrCompacted)
			}
			b.More = i < len(batches)-1
			if err := fn(b); err != nil {
				return 0, err
			}
			*last = b.Revision
			if err := ctx.Err(); err != nil {
				return 0, err
			}
		}
	}
	if s.isClosed() {
		return 0, store.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("store/etcd: watch ended")
}

// compacted reports whether the changes after from are outside the history
// this store serves, the store being at cur.
func (s *Store) compacted(from, cur store.Revision) bool {
	return s.history > 0 && from < cur-store.Revision(s.history)
}

// batches groups etcd events by etcd revision into Stratus batches. The
// meta key's event gives each its Stratus revision.
func (s *Store) batches(evs []*clientv3.Event) []store.Batch {
	var out []store.Batch
	var modRev int64
	for _, ev := range evs {
		if len(out) == 0 || ev.Kv.ModRevision != modRev {
			out = append(out, store.Batch{})
			modRev = ev.Kv.ModRevision
		}
		b := &out[len(out)-1]
		key := string(ev.Kv.Key)
		if key == s.meta {
			b.Revision = ev.Kv.Version
			s.seen(b.Revision)
			s.remember(b.Revision, ev.Kv.ModRevision)
			continue
		}
		k, ok := strings.CutPrefix(key, s.data)
		if !ok {
			continue
		}
		e := store.Event{Key: k}
		if ev.Type == clientv3.EventTypeDelete {
			e.Deleted = true
		} else {
			e.Value = append([]byte{}, ev.Kv.Value...)
		}
		b.Events = append(b.Events, e)
	}
	return out
}

// etcdRevisionOf returns an etcd revision at which the store was at rev
// (rev < the revision at etcd revision head), searching the meta key's
// version over etcd revisions. It fails with store.ErrCompacted when etcd
// no longer keeps such a revision.
func (s *Store) etcdRevisionOf(ctx context.Context, rev store.Revision, head int64) (int64, error) {
	resp, err := s.get(ctx, s.meta, clientv3.WithRev(head))
	if err != nil {
		return 0, err
	}
	if len(resp.Kvs) == 0 {
		return head, nil
	}
	kv := resp.Kvs[0]
	if rev == 0 {
		return kv.CreateRevision - 1, nil
	}
	// Largest etcd revision in [lo, hi] whose meta version is <= rev: the
	// version there is rev, as versions grow by one per commit. A
	// compacted midpoint moves lo past it: a later revision may still
	// serve, which the read at lo checks at the end.
	lo, hi := kv.CreateRevision, kv.ModRevision
	check := false
	for lo < hi {
		mid := lo + (hi-lo+1)/2
		s.searchGets.Add(1)
		r, err := s.get(ctx, s.meta, clientv3.WithRev(mid))
		if errors.Is(err, rpctypes.ErrCompacted) {
			lo, check = min(mid+1, hi), true
			continue
		}
		if err != nil {
			return 0, err
		}
		if len(r.Kvs) > 0 && r.Kvs[0].Version <= rev {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	if check {
		s.searchGets.Add(1)
		r, err := s.get(ctx, s.meta, clientv3.WithRev(lo))
		if errors.Is(err, rpctypes.ErrCompacted) || err == nil && metaVersion(r) != rev {
			return 0, fmt.Errorf("store/etcd: watch from %d: etcd compacted past it: %w", rev, store.ErrCompacted)
		}
		if err != nil {
			return 0, err
		}
	}
	return lo, nil
}

// metaVersion is the Stratus revision a read of the meta key saw.
func metaVersion(r *clientv3.GetResponse) store.Revision {
	if len(r.Kvs) == 0 {
		return 0
	}
	return r.Kvs[0].Version
}
