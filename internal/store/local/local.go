// Package local implements store.Shared inside one process, for a node
// whose store is not shared (store/bolt): the node is alone in its
// cluster, so NewSession gives it a session that leads every election at
// once, keeps its ephemeral keys in memory and never expires on its own
// (only Close ends it).
//
// A Cluster holds several such sessions (tests, or components of one
// process that each want their own): they see each other's ephemeral keys,
// refuse a second live session with a node's name and take turns leading
// an election in the order they began to campaign.
//
// The fences of a local term are store.LocalFence values: store/bolt
// checks them inside its write transaction, and Resign and Close wait for
// the writes that hold the fence, so no fenced write commits after the
// term ended.
package local

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/stratusdns/stratus/internal/store"
)

// Cluster is an in-process store.Shared. The zero value is not usable:
// create it with New.
type Cluster struct {
	mu        sync.Mutex
	nodes     map[string]*Session
	keys      map[string]entry // ephemeral keys
	watchers  map[*watcher]struct{}
	elections map[string]*election
}

// entry is one ephemeral key.
type entry struct {
	value []byte
	owner *Session
}

var _ store.Shared = (*Cluster)(nil)

// New returns an empty cluster.
func New() *Cluster {
	return &Cluster{
		nodes:     map[string]*Session{},
		keys:      map[string]entry{},
		watchers:  map[*watcher]struct{}{},
		elections: map[string]*election{},
	}
}

// NewSession returns the session of node, alone in a cluster of its own.
func NewSession(node string) (*Session, error) {
	return New().open(node)
}

// Session opens node's session in c. ttl must be positive, as for any
// store.Shared, but a local session never expires: only Close ends it.
func (c *Cluster) Session(ctx context.Context, node string, ttl time.Duration) (store.Session, error) {
	if ttl <= 0 {
		return nil, fmt.Errorf("store/local: session of node %q: ttl %v is not positive", node, ttl)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return c.open(node)
}

func (c *Cluster) open(node string) (*Session, error) {
	if node == "" {
		return nil, errors.New("store/local: session: empty node name")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.nodes[node]; ok {
		return nil, fmt.Errorf("store/local: node %q has a live session already", node)
	}
	s := &Session{c: c, node: node, done: make(chan struct{}), terms: map[*term]struct{}{}}
	c.nodes[node] = s
	return s, nil
}

// Session is one node's session in a Cluster.
type Session struct {
	c    *Cluster
	node string
	done chan struct{}
	// terms are the session's live terms; guarded by c.mu.
	terms map[*term]struct{}
}

var _ store.Session = (*Session)(nil)

// Node returns the node name.
func (s *Session) Node() string { return s.node }

// Done is closed by Close.
func (s *Session) Done() <-chan struct{} { return s.done }

// ended reports whether Close has run; call with c.mu held.
func (s *Session) ended() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// Put stores an ephemeral key.
func (s *Session) Put(ctx context.Context, key string, value []byte) error {
	if key == "" {
		return store.ErrEmptyKey
	}
	return s.apply(ctx, []store.Event{{Key: key, Value: value}}, "put of ephemeral key "+strconv.Quote(key))
}

// Delete removes an ephemeral key s put.
func (s *Session) Delete(ctx context.Context, key string) error {
	if key == "" {
		return store.ErrEmptyKey
	}
	return s.apply(ctx, []store.Event{{Key: key, Deleted: true}}, "delete of ephemeral key "+strconv.Quote(key))
}

// Apply writes a batch of ephemeral keys at once: watchers see it as one
// batch.
func (s *Session) Apply(ctx context.Context, events []store.Event) error {
	evs, err := store.LastEvents(events)
	if err != nil {
		return fmt.Errorf("store/local: apply of %d ephemeral keys: %w", len(events), err)
	}
	return s.apply(ctx, evs, fmt.Sprintf("apply of %d ephemeral keys", len(evs)))
}

// apply writes evs (one event a key) under the cluster's lock; what names
// the call in errors.
func (s *Session) apply(ctx context.Context, evs []store.Event, what string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if s.ended() {
		return store.ErrSessionEnded
	}
	out := make([]store.Event, 0, len(evs))
	var refused []string
	for _, e := range evs {
		if !e.Deleted {
			v := append([]byte{}, e.Value...)
			c.keys[e.Key] = entry{value: v, owner: s}
			out = append(out, store.Event{Key: e.Key, Value: v})
			continue
		}
		old, ok := c.keys[e.Key]
		switch {
		case !ok:
		case old.owner != s:
			refused = append(refused, fmt.Sprintf("%q (node %q)", e.Key, old.owner.node))
		default:
			delete(c.keys, e.Key)
			out = append(out, store.Event{Key: e.Key, Deleted: true})
		}
	}
	c.notify(out...)
	if len(refused) > 0 {
		return fmt.Errorf("store/local: %s: delete of %s refused: the keys belong to other nodes, not %q", what, strings.Join(refused, ", "), s.node)
	}
	return nil
}

// List returns the live ephemeral keys under prefix, in key order.
func (s *Session) List(ctx context.Context, prefix string) ([]store.Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	return s.c.list(prefix), nil
}

// list returns the keys under prefix; call with c.mu held.
func (c *Cluster) list(prefix string) []store.Event {
	var out []store.Event
	for k, e := range c.keys {
		if strings.HasPrefix(k, prefix) {
			out = append(out, store.Event{Key: k, Value: append([]byte{}, e.value...), Owner: e.owner.node})
		}
	}
	slices.SortFunc(out, func(a, b store.Event) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// watcher is one WatchEphemeral: batches queue here for its goroutine.
type watcher struct {
	prefix string
	queue  []store.EphemeralBatch
	wake   chan struct{} // 1-buffered
}

// notify hands ev to every watcher of its key, each key put with its
// owner; call with c.mu held, the keys written.
func (c *Cluster) notify(evs ...store.Event) {
	for i, ev := range evs {
		if e, ok := c.keys[ev.Key]; ok && !ev.Deleted {
			evs[i].Owner = e.owner.node
		}
	}
	for w := range c.watchers {
		var b store.EphemeralBatch
		for _, ev := range evs {
			if strings.HasPrefix(ev.Key, w.prefix) {
				b.Events = append(b.Events, ev)
			}
		}
		if len(b.Events) == 0 {
			continue
		}
		w.queue = append(w.queue, b)
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// WatchEphemeral calls fn with the ephemeral keys under prefix: a Reset
// batch, then every change.
func (s *Session) WatchEphemeral(ctx context.Context, prefix string, fn func(store.EphemeralBatch) error) error {
	c := s.c
	w := &watcher{prefix: prefix, wake: make(chan struct{}, 1)}
	c.mu.Lock()
	if s.ended() {
		c.mu.Unlock()
		return store.ErrSessionEnded
	}
	w.queue = append(w.queue, store.EphemeralBatch{Reset: true, Events: c.list(prefix)})
	c.watchers[w] = struct{}{}
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.watchers, w)
		c.mu.Unlock()
	}()
	for {
		c.mu.Lock()
		q := w.queue
		w.queue = nil
		c.mu.Unlock()
		for _, b := range q {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := fn(b); err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-w.wake:
		case <-s.done:
			// Deliver what the Close queued (this session's keys
			// deleted), then end.
			c.mu.Lock()
			q := w.queue
			w.queue = nil
			c.mu.Unlock()
			for _, b := range q {
				if err := fn(b); err != nil {
					return err
				}
			}
			return store.ErrSessionEnded
		}
	}
}

// Close ends the session: its keys vanish and its terms end. Close waits
// for the fenced writes of its terms that are committing.
func (s *Session) Close() error {
	c := s.c
	c.mu.Lock()
	if s.ended() {
		c.mu.Unlock()
		return nil
	}
	var evs []store.Event
	for k, e := range c.keys {
		if e.owner == s {
			delete(c.keys, k)
			evs = append(evs, store.Event{Key: k, Deleted: true})
		}
	}
	slices.SortFunc(evs, func(a, b store.Event) int { return strings.Compare(a.Key, b.Key) })
	c.notify(evs...)
	delete(c.nodes, s.node)
	terms := make([]*term, 0, len(s.terms))
	for t := range s.terms {
		terms = append(terms, t)
	}
	close(s.done)
	c.mu.Unlock()
	for _, t := range terms {
		t.end()
	}
	return nil
}
