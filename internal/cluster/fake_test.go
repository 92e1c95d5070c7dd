package cluster

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/stratusdns/stratus/internal/store"
)

// fakeShared is a store.Shared in memory: sessions that end when a test
// expires them, one election queue per name, ephemeral keys.
type fakeShared struct {
	mu        sync.Mutex
	eph       map[string]fakeKey
	queue     map[string][]*campaigner
	leader    map[string]*fakeTerm
	opens     int
	campaigns int
	openErrs  int // the next opens that fail
	sessions  map[string]*fakeSession
}

type fakeKey struct {
	val   []byte
	owner *fakeSession
}

type campaigner struct {
	sess  *fakeSession
	value []byte
	won   chan *fakeTerm
}

func newFakeShared() *fakeShared {
	return &fakeShared{eph: map[string]fakeKey{}, queue: map[string][]*campaigner{}, leader: map[string]*fakeTerm{}, sessions: map[string]*fakeSession{}}
}

func (f *fakeShared) open(_ context.Context, node string, _ time.Duration) (store.Session, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.openErrs > 0 {
		f.openErrs--
		return nil, errors.New("store away")
	}
	if s := f.sessions[node]; s != nil && !s.ended() {
		return nil, errors.New("a live session has this name")
	}
	f.opens++
	s := &fakeSession{f: f, node: node, done: make(chan struct{})}
	f.sessions[node] = s
	return s, nil
}

func (f *fakeShared) count() (opens, campaigns int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.opens, f.campaigns
}

// expire ends node's session as the servers would after its ttl.
func (f *fakeShared) expire(node string) {
	f.mu.Lock()
	s := f.sessions[node]
	f.mu.Unlock()
	if s != nil {
		s.Close()
	}
}

// depose ends the term of election's leader without ending its session.
func (f *fakeShared) depose(election string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t := f.leader[election]; t != nil {
		t.endLocked()
		f.promoteLocked(election)
	}
}

func (f *fakeShared) leaderNode(election string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t := f.leader[election]; t != nil {
		return t.sess.node
	}
	return ""
}

func (f *fakeShared) promoteLocked(election string) {
	if t := f.leader[election]; t != nil && !t.isDone() {
		return
	}
	delete(f.leader, election)
	q := f.queue[election]
	for len(q) > 0 {
		c := q[0]
		q = q[1:]
		if c.sess.ended() {
			continue
		}
		t := &fakeTerm{f: f, sess: c.sess, election: election, value: c.value, done: make(chan struct{})}
		f.leader[election] = t
		c.won <- t
		break
	}
	f.queue[election] = q
}

type fakeSession struct {
	f    *fakeShared
	node string
	done chan struct{}
	once sync.Once
}

func (s *fakeSession) ended() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

func (s *fakeSession) Node() string { return s.node }

func (s *fakeSession) Put(_ context.Context, key string, value []byte) error {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	if s.ended() {
		return store.ErrSessionEnded
	}
	s.f.eph[key] = fakeKey{append([]byte(nil), value...), s}
	return nil
}

func (s *fakeSession) Delete(_ context.Context, key string) error {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	delete(s.f.eph, key)
	return nil
}

func (s *fakeSession) Apply(ctx context.Context, events []store.Event) error {
	for _, e := range events {
		var err error
		if e.Deleted {
			err = s.Delete(ctx, e.Key)
		} else {
			err = s.Put(ctx, e.Key, e.Value)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *fakeSession) List(_ context.Context, prefix string) ([]store.Event, error) {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	var out []store.Event
	for k, v := range s.f.eph {
		if strings.HasPrefix(k, prefix) {
			out = append(out, store.Event{Key: k, Value: v.val})
		}
	}
	return out, nil
}

func (s *fakeSession) WatchEphemeral(ctx context.Context, _ string, _ func(store.EphemeralBatch) error) error {
	<-ctx.Done()
	return ctx.Err()
}

func (s *fakeSession) Campaign(ctx context.Context, election string, value []byte) (store.Term, error) {
	c := &campaigner{sess: s, value: value, won: make(chan *fakeTerm, 1)}
	s.f.mu.Lock()
	if s.ended() {
		s.f.mu.Unlock()
		return nil, store.ErrSessionEnded
	}
	s.f.campaigns++
	s.f.queue[election] = append(s.f.queue[election], c)
	s.f.promoteLocked(election)
	s.f.mu.Unlock()
	select {
	case t := <-c.won:
		return t, nil
	case <-ctx.Done():
	case <-s.done:
	}
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	select {
	case t := <-c.won: // won meanwhile: give it up
		t.endLocked()
		s.f.promoteLocked(election)
	default:
		q := s.f.queue[election]
		for i, x := range q {
			if x == c {
				s.f.queue[election] = append(q[:i:i], q[i+1:]...)
				break
			}
		}
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return nil, store.ErrSessionEnded
}

func (s *fakeSession) Leader(_ context.Context, election string) ([]byte, error) {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	if t := s.f.leader[election]; t != nil && !t.isDone() {
		return t.value, nil
	}
	return nil, store.ErrNoLeader
}

func (s *fakeSession) Done() <-chan struct{} { return s.done }

func (s *fakeSession) Close() error {
	s.once.Do(func() {
		s.f.mu.Lock()
		defer s.f.mu.Unlock()
		close(s.done)
		for k, v := range s.f.eph {
			if v.owner == s {
				delete(s.f.eph, k)
			}
		}
		for e, t := range s.f.leader {
			if t.sess == s {
				t.endLocked()
				s.f.promoteLocked(e)
			}
		}
	})
	return nil
}

type fakeTerm struct {
	f        *fakeShared
	sess     *fakeSession
	election string
	value    []byte
	done     chan struct{}
	once     sync.Once
}

type fenceKey struct{}

// termOf returns the term a context was fenced with.
func termOf(ctx context.Context) *fakeTerm {
	t, _ := ctx.Value(fenceKey{}).(*fakeTerm)
	return t
}

func (t *fakeTerm) Fence(ctx context.Context) context.Context {
	return context.WithValue(ctx, fenceKey{}, t)
}

func (t *fakeTerm) Done() <-chan struct{} { return t.done }

func (t *fakeTerm) isDone() bool {
	select {
	case <-t.done:
		return true
	default:
		return false
	}
}

func (t *fakeTerm) endLocked() { t.once.Do(func() { close(t.done) }) }

func (t *fakeTerm) Resign(context.Context) error {
	t.f.mu.Lock()
	defer t.f.mu.Unlock()
	t.endLocked()
	t.f.promoteLocked(t.election)
	return nil
}
