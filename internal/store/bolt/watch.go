package bolt

import (
	"context"

	"github.com/stratusdns/stratus/internal/store"
)

// Watch calls fn with the batch of every revision after from, in order, as
// documented by store.Store. It reads the in-memory history one batch at a
// time without holding any lock while fn runs, so a slow fn never delays
// writers; if it falls behind the retained history, Watch returns an error
// wrapping store.ErrCompacted. Watch returns store.ErrClosed once the store
// is closed. The batches are shared with other watchers and must not be
// modified.
func (s *Store) Watch(ctx context.Context, from store.Revision, fn func(store.Batch) error) error {
	w := s.hist.watch(from)
	defer s.hist.unwatch(w)
	for {
		if s.closed.Load() {
			return store.ErrClosed
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		b, wait, err := s.hist.next(from)
		if err != nil {
			return err
		}
		if wait != nil {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-s.done:
				return store.ErrClosed
			case <-wait:
			}
			continue
		}
		b.More = b.Revision < s.hist.current()
		from = b.Revision
		// Recorded before fn runs, and b not used after it: a batch too
		// large for the history can be collected as soon as fn is done
		// with it.
		s.hist.read(w, from)
		if err := fn(b); err != nil {
			return err
		}
	}
}
