package local

import (
	"context"
	"errors"
	"sync"

	"github.com/stratusdns/stratus/internal/store"
)

// election is one election of a Cluster: its leader and the candidates
// waiting, in the order they began to campaign. Guarded by Cluster.mu.
type election struct {
	leader  *term
	waiting []*candidate
}

// candidate is a Campaign waiting for its turn.
type candidate struct {
	s     *Session
	value []byte
	won   chan *term // 1-buffered: the term, when it leads
}

// Campaign blocks until s leads election, ctx is done or s ends.
func (s *Session) Campaign(ctx context.Context, name string, value []byte) (store.Term, error) {
	if name == "" {
		return nil, errors.New("store/local: campaign: empty election name")
	}
	c := s.c
	c.mu.Lock()
	if s.ended() {
		c.mu.Unlock()
		return nil, store.ErrSessionEnded
	}
	if err := ctx.Err(); err != nil {
		c.mu.Unlock()
		return nil, err
	}
	e := c.elections[name]
	if e == nil {
		e = &election{}
		c.elections[name] = e
	}
	cand := &candidate{s: s, value: append([]byte{}, value...), won: make(chan *term, 1)}
	e.waiting = append(e.waiting, cand)
	c.promote(name, e)
	c.mu.Unlock()

	select {
	case t := <-cand.won:
		return t, nil
	case <-ctx.Done():
	case <-s.done:
	}
	c.mu.Lock()
	if i := indexOf(e.waiting, cand); i >= 0 {
		e.waiting = append(e.waiting[:i], e.waiting[i+1:]...)
	}
	c.mu.Unlock()
	err := ctx.Err()
	if err == nil {
		err = store.ErrSessionEnded
	}
	select {
	case t := <-cand.won: // won as it gave up: the term ends at once
		t.end()
	default:
	}
	return nil, err
}

func indexOf(cs []*candidate, c *candidate) int {
	for i, x := range cs {
		if x == c {
			return i
		}
	}
	return -1
}

// promote makes the first waiting candidate of e the leader when there is
// none; call with c.mu held.
func (c *Cluster) promote(name string, e *election) {
	for e.leader == nil && len(e.waiting) > 0 {
		cand := e.waiting[0]
		e.waiting = e.waiting[1:]
		if cand.s.ended() {
			continue
		}
		t := &term{c: c, s: cand.s, name: name, e: e, value: cand.value, done: make(chan struct{})}
		t.cond = sync.NewCond(&t.mu)
		e.leader = t
		cand.s.terms[t] = struct{}{}
		cand.won <- t
	}
}

// Leader returns the value the leader of election campaigned with.
func (s *Session) Leader(ctx context.Context, name string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.elections[name]
	if e == nil || e.leader == nil {
		return nil, store.ErrNoLeader
	}
	return append([]byte{}, e.leader.value...), nil
}

// term is a local term; it is its own store.LocalFence.
type term struct {
	c     *Cluster
	s     *Session
	name  string
	e     *election
	value []byte
	done  chan struct{}

	mu      sync.Mutex
	cond    *sync.Cond
	ended   bool
	holders int // writes holding the fence
}

var (
	_ store.Term       = (*term)(nil)
	_ store.LocalFence = (*term)(nil)
)

// Fence returns ctx carrying the term.
func (t *term) Fence(ctx context.Context) context.Context { return store.WithFence(ctx, t) }

// Done is closed when the term has ended.
func (t *term) Done() <-chan struct{} { return t.done }

// Hold keeps the term from ending until release, when it still lasts.
func (t *term) Hold() (func(), bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ended {
		return nil, false
	}
	t.holders++
	var once sync.Once
	return func() {
		once.Do(func() {
			t.mu.Lock()
			t.holders--
			if t.holders == 0 {
				t.cond.Broadcast()
			}
			t.mu.Unlock()
		})
	}, true
}

// Resign ends the term; the next candidate leads.
func (t *term) Resign(ctx context.Context) error {
	t.end()
	return nil
}

// end ends the term: no new Hold succeeds, the writes holding it finish,
// then Done closes and the next candidate leads.
func (t *term) end() {
	t.mu.Lock()
	if t.ended {
		t.mu.Unlock()
		<-t.done
		return
	}
	t.ended = true
	for t.holders > 0 {
		t.cond.Wait()
	}
	t.mu.Unlock()

	c := t.c
	c.mu.Lock()
	delete(t.s.terms, t)
	if t.e.leader == t {
		t.e.leader = nil
		c.promote(t.name, t.e)
	}
	close(t.done)
	c.mu.Unlock()
}
