package bolt

import (
	"fmt"
	"sync"

	"github.com/stratusdns/stratus/internal/store"
)

// Approximate memory cost of the parts of a Batch other than key and value
// bytes, used to bound the history by bytes.
const (
	batchOverhead = 64
	eventOverhead = 64
)

// history is the in-memory watch history: the batches of revisions
// floor+1 .. last, oldest first, bounded by count and approximate bytes.
// The newest batch is kept even when it alone exceeds the bounds, until
// every running watcher has been given it: a watcher a little behind then
// gets it, and a large import's batch does not stay in memory for as long
// as no other write follows.
type history struct {
	maxRevisions int
	maxBytes     int

	mu      sync.RWMutex
	batches []store.Batch // batches[i].Revision == floor+1+i
	sizes   []int         // sizes[i] is the cost of batches[i]
	bytes   int           // sum of sizes
	floor   store.Revision
	last    store.Revision
	notify  chan struct{} // closed and replaced on every append

	// watchers holds, for each running Watch, the last revision it has
	// been given.
	watchers map[*watcher]struct{}
}

// watcher is the position of one running Watch.
type watcher struct{ read store.Revision }

// newHistory returns an empty history at revision rev.
func newHistory(rev store.Revision, maxRevisions, maxBytes int) *history {
	return &history{
		maxRevisions: maxRevisions,
		maxBytes:     maxBytes,
		floor:        rev,
		last:         rev,
		notify:       make(chan struct{}),
		watchers:     map[*watcher]struct{}{},
	}
}

// watch registers a Watch that has read up to revision from.
func (h *history) watch(from store.Revision) *watcher {
	w := &watcher{read: from}
	h.mu.Lock()
	h.watchers[w] = struct{}{}
	h.mu.Unlock()
	return w
}

// unwatch removes a Watch.
func (h *history) unwatch(w *watcher) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.watchers, w)
	h.dropRead()
}

// read records that w has been given the batches up to revision rev.
func (h *history) read(w *watcher, rev store.Revision) {
	h.mu.Lock()
	defer h.mu.Unlock()
	w.read = rev
	h.dropRead()
}

// dropRead drops a newest batch over the bounds once every running
// watcher, and at least one, has been given it. Call with mu held.
func (h *history) dropRead() {
	if len(h.batches) != 1 || len(h.watchers) == 0 || (len(h.batches) <= h.maxRevisions && h.bytes <= h.maxBytes) {
		return
	}
	for o := range h.watchers {
		if o.read < h.last {
			return
		}
	}
	h.dropOldest()
}

// dropOldest drops the oldest retained batch. Call with mu held.
func (h *history) dropOldest() {
	h.bytes -= h.sizes[0]
	h.floor = h.batches[0].Revision
	// Clear the slot so the dropped events can be collected before
	// append reallocates the backing array.
	h.batches[0] = store.Batch{}
	h.batches = h.batches[1:]
	h.sizes = h.sizes[1:]
}

// current returns the newest revision.
func (h *history) current() store.Revision {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.last
}

// append adds the batch of the next revision, drops the oldest batches that
// exceed the bounds (never the newest), and wakes waiting watchers. Callers
// serialize append.
func (h *history) append(b store.Batch) {
	size := batchCost(b)
	h.mu.Lock()
	defer h.mu.Unlock()
	if b.Revision != h.last+1 {
		panic(fmt.Sprintf("store/bolt: history: append revision %d after %d", b.Revision, h.last))
	}
	h.batches = append(h.batches, b)
	h.sizes = append(h.sizes, size)
	h.bytes += size
	h.last = b.Revision
	for len(h.batches) > 1 && (len(h.batches) > h.maxRevisions || h.bytes > h.maxBytes) {
		h.dropOldest()
	}
	close(h.notify)
	h.notify = make(chan struct{})
}

// next returns the batch of revision from+1. When that revision is not
// committed yet it returns a channel closed by the next append instead. It
// fails with store.ErrCompacted when the batch is no longer retained.
func (h *history) next(from store.Revision) (store.Batch, <-chan struct{}, error) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	switch {
	case from < h.floor:
		return store.Batch{}, nil, fmt.Errorf("store/bolt: watch from revision %d: oldest retained is %d: %w",
			from, h.floor, store.ErrCompacted)
	case from >= h.last:
		return store.Batch{}, h.notify, nil
	default:
		return h.batches[from-h.floor], nil, nil
	}
}

// batchCost estimates the memory held by b.
func batchCost(b store.Batch) int {
	n := batchOverhead
	for _, e := range b.Events {
		n += eventOverhead + len(e.Key) + len(e.Value)
	}
	return n
}
