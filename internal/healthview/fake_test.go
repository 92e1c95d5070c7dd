package healthview

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/stratusdns/stratus/internal/clock"
	"github.com/stratusdns/stratus/internal/health"
	"github.com/stratusdns/stratus/internal/store"
)

// hub is the ephemeral key space of a shared store, for several nodes'
// sessions in one test: keys owned by sessions, gone when they end.
type hub struct {
	mu       sync.Mutex
	keys     map[string]owned
	watchers map[*watcher]bool
}

type owned struct {
	s     *session
	value []byte
}

type watcher struct {
	prefix string
	ch     chan store.EphemeralBatch
}

func newHub() *hub { return &hub{keys: map[string]owned{}, watchers: map[*watcher]bool{}} }

// send hands evs to the watchers of their prefix. Call with mu held.
func (h *hub) send(evs ...store.Event) {
	for w := range h.watchers {
		var b store.EphemeralBatch
		for _, ev := range evs {
			if strings.HasPrefix(ev.Key, w.prefix) {
				b.Events = append(b.Events, ev)
			}
		}
		if len(b.Events) > 0 {
			w.ch <- b
		}
	}
}

func (h *hub) session(node string) *session {
	return &session{h: h, node: node, done: make(chan struct{})}
}

// session is one node's session on a hub.
type session struct {
	h    *hub
	node string
	once sync.Once
	done chan struct{}
}

var _ store.Session = (*session)(nil)

func (s *session) Node() string { return s.node }

func (s *session) ended() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

func (s *session) Put(ctx context.Context, key string, value []byte) error {
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	if s.ended() {
		return store.ErrSessionEnded
	}
	if o, ok := s.h.keys[key]; ok && o.s != s {
		return fmt.Errorf("%s is another session's", key)
	}
	s.h.keys[key] = owned{s, append([]byte(nil), value...)}
	s.h.send(store.Event{Key: key, Value: value})
	return nil
}

func (s *session) Delete(ctx context.Context, key string) error {
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	if s.ended() {
		return store.ErrSessionEnded
	}
	if o, ok := s.h.keys[key]; ok && o.s == s {
		delete(s.h.keys, key)
		s.h.send(store.Event{Key: key, Deleted: true})
	}
	return nil
}

func (s *session) List(ctx context.Context, prefix string) ([]store.Event, error) {
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	var out []store.Event
	for k, o := range s.h.keys {
		if strings.HasPrefix(k, prefix) {
			out = append(out, store.Event{Key: k, Value: o.value})
		}
	}
	return out, nil
}

func (s *session) WatchEphemeral(ctx context.Context, prefix string, fn func(store.EphemeralBatch) error) error {
	w := &watcher{prefix: prefix, ch: make(chan store.EphemeralBatch, 4096)}
	s.h.mu.Lock()
	reset := store.EphemeralBatch{Reset: true}
	for k, o := range s.h.keys {
		if strings.HasPrefix(k, prefix) {
			reset.Events = append(reset.Events, store.Event{Key: k, Value: o.value})
		}
	}
	s.h.watchers[w] = true
	s.h.mu.Unlock()
	defer func() {
		s.h.mu.Lock()
		delete(s.h.watchers, w)
		s.h.mu.Unlock()
	}()
	if err := fn(reset); err != nil {
		return err
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case b := <-w.ch:
			if err := fn(b); err != nil {
				return err
			}
		}
	}
}

func (s *session) Campaign(ctx context.Context, election string, value []byte) (store.Term, error) {
	return nil, errors.New("not in these tests")
}

func (s *session) Leader(ctx context.Context, election string) ([]byte, error) {
	return nil, store.ErrNoLeader
}

func (s *session) Done() <-chan struct{} { return s.done }

// Close ends the session: its keys vanish.
func (s *session) Close() error {
	s.once.Do(func() {
		s.h.mu.Lock()
		defer s.h.mu.Unlock()
		close(s.done)
		var evs []store.Event
		for k, o := range s.h.keys {
			if o.s == s {
				delete(s.h.keys, k)
				evs = append(evs, store.Event{Key: k, Deleted: true})
			}
		}
		s.h.send(evs...)
	})
	return nil
}

// checker is a node's health checker as the view uses it: statuses set
// by the test, events recorded.
type checker struct {
	clk      *clock.Fake // stamps reports
	mu       sync.Mutex
	statuses map[string]health.Status
	events   []health.Event
}

func newChecker(clk *clock.Fake) *checker {
	return &checker{clk: clk, statuses: map[string]health.Status{}}
}

func (c *checker) set(key string, st health.Status) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.statuses[key] = st
}

func (c *checker) Status(key string) (health.Status, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, ok := c.statuses[key]
	return st, ok
}

func (c *checker) Statuses() map[string]health.Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]health.Status, len(c.statuses))
	for k, v := range c.statuses {
		out[k] = v
	}
	return out
}

func (c *checker) Push(key string, up bool, reason string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, ok := c.statuses[key]
	if !ok || !st.Push {
		return fmt.Errorf("push for %q: not a push target", key)
	}
	st.State = health.Down
	if up {
		st.State = health.Up
	}
	st.LastCheck = c.clk.Now()
	c.statuses[key] = st
	return nil
}

func (c *checker) Record(ev health.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.events = append(c.events, ev)
}

func (c *checker) reasons() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, ev := range c.events {
		out = append(out, ev.Key+": "+ev.Reason)
	}
	return out
}
