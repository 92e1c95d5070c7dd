package etcd

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/stratusdns/stratus/internal/store"
)

// queues runs the Updates of one conflict key (store.WithConflictKey) one
// at a time, first come first served: a node's own writes to one zone
// never conflict with each other, so only other nodes' commits make one
// run again.
type queues struct {
	mu sync.Mutex
	m  map[string]*queue
}

// queue is one key's turn: a buffered channel of capacity one, held by
// the Update that sent into it. Senders blocked on a full channel are
// woken in the order they blocked, so the turn goes round in order.
type queue struct {
	turn  chan struct{}
	users int // Updates holding or waiting for the turn
}

// acquire waits for key's turn and returns the function that gives it
// up; it fails only when ctx ends or the store closes first.
func (q *queues) acquire(ctx context.Context, closed <-chan struct{}, key string) (release func(), err error) {
	q.mu.Lock()
	if q.m == nil {
		q.m = map[string]*queue{}
	}
	k := q.m[key]
	if k == nil {
		k = &queue{turn: make(chan struct{}, 1)}
		q.m[key] = k
	}
	k.users++
	q.mu.Unlock()
	done := func() {
		q.mu.Lock()
		if k.users--; k.users == 0 {
			delete(q.m, key)
		}
		q.mu.Unlock()
	}
	select {
	case k.turn <- struct{}{}:
		return func() { <-k.turn; done() }, nil
	case <-ctx.Done():
		done()
		return nil, ctx.Err()
	case <-closed:
		done()
		return nil, store.ErrClosed
	}
}

// Backoff between the runs of a transaction that conflicted: a random
// wait up to backoffBase doubled with each conflict, at most backoffMax,
// so that nodes that conflicted once do not meet again in step.
const (
	backoffBase = 2 * time.Millisecond
	backoffMax  = 100 * time.Millisecond
)

// backoff returns the wait before run n+1 of a transaction whose run n
// conflicted (n counts from 1).
func backoff(n int) time.Duration {
	ceil := backoffMax
	if n < 16 {
		ceil = min(backoffMax, backoffBase<<(n-1))
	}
	return rand.N(ceil) + 1
}
