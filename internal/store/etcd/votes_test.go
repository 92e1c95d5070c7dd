package etcd

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/health"
	"github.com/stratusdns/stratus/internal/healthview"
)

// voteChecker is a node's checks, set by the test.
type voteChecker struct {
	mu sync.Mutex
	st map[string]health.Status
}

func (c *voteChecker) Status(key string) (health.Status, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, ok := c.st[key]
	return st, ok
}

func (c *voteChecker) Statuses() map[string]health.Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]health.Status, len(c.st))
	for k, v := range c.st {
		out[k] = v
	}
	return out
}

func (c *voteChecker) Push(string, bool, string) error { return nil }
func (c *voteChecker) Record(health.Event)             {}

// TestForgedVotesNotCounted: on etcd, a health vote counts only when the
// live session of the node it names holds it: a vote key written with a
// plain Put (no lease) or by one node's session under another node's name
// is left out by every node.
func TestForgedVotesNotCounted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	prefix := t.TempDir() + "/"
	now := time.Now()
	upSt := health.Status{State: health.Up, Since: now, Added: now, LastCheck: now, LastOK: true}
	type vnode struct {
		chk  *voteChecker
		v    *healthview.View
		sess interface {
			Put(context.Context, string, []byte) error
		}
	}
	nodes := map[string]*vnode{}
	var s *Store
	for _, name := range []string{"a", "b"} {
		s = openPrefix(t, prefix)
		sess, err := s.Session(ctx, name, sessionTTL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = sess.Close() })
		chk := &voteChecker{st: map[string]health.Status{"s.|e1": upSt, "s.|e2": upSt}}
		if name == "b" {
			delete(chk.st, "s.|e2")
		}
		n := &vnode{chk: chk, v: healthview.New(chk, healthview.Options{Node: name}), sess: sess}
		nodes[name] = n
		wg.Add(1)
		go func() { defer wg.Done(); _ = n.v.Run(ctx, sess) }()
	}
	a := nodes["a"]
	waitView := func(key, want string) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			st, _ := a.v.Status(key)
			if st.View == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("a's view of %s: %q, want %q", key, st.View, want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitView("s.|e1", "2 of 2 nodes see it up (a, b)")

	down := []byte(`{"state":"down","since":"2030-01-02T03:04:05Z"}`)
	for _, n := range []string{"x", "y"} {
		if _, err := s.cli.Put(ctx, prefix+"s/e/"+healthview.VotesPrefix+n+"/s.|e1", string(down)); err != nil {
			t.Fatal(err)
		}
	}
	if err := nodes["b"].sess.Put(ctx, healthview.VotesPrefix+"z/s.|e1", down); err != nil {
		t.Fatal(err)
	}
	// A marker after the forged votes: b's first vote on e2.
	b := nodes["b"]
	b.chk.mu.Lock()
	b.chk.st["s.|e2"] = upSt
	b.chk.mu.Unlock()
	b.v.LocalChanged(context.Background(), []string{"s.|e2"})
	waitView("s.|e2", "2 of 2 nodes see it up (a, b)")
	if st, _ := a.v.Status("s.|e1"); st.State != health.Up || st.View != "2 of 2 nodes see it up (a, b)" {
		t.Errorf("a sees e1 %v (%s); forged votes counted", st.State, st.View)
	}
}
