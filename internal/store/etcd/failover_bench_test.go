package etcd

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/health"
	"github.com/stratusdns/stratus/internal/healthview"
	"github.com/stratusdns/stratus/internal/store"
)

// BenchmarkFailoverVotes measures the failover of endpoints killed at
// once as three nodes' healthview.Views decide it through the etcd the
// tests start: each node checks 3,000 endpoints, 1,000 of them go down
// on every node's checker at the same instant, and ns/op is the time
// until every node's view has the last of them down (2 of 3 votes). A
// node's own verdict is one vote; the second comes through etcd. With
// put-each the session writes one key a request, as the publishing loop
// did before Session.Apply; with apply it writes the batch.
//
//	go test -run '^$' -bench FailoverVotes -benchtime 3x ./internal/store/etcd
func BenchmarkFailoverVotes(b *testing.B) {
	ep := etcdEndpoint(b)
	for _, mode := range []string{"put-each", "apply"} {
		b.Run("killed=1000/"+mode, func(b *testing.B) {
			benchFailover(b, ep, 3000, 1000, mode == "put-each")
		})
	}
}

// putEach is a session whose Apply writes one key a request.
type putEach struct{ store.Session }

func (s putEach) Apply(ctx context.Context, evs []store.Event) error {
	for _, e := range evs {
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

// benchChecker is a node's checker: statuses set by the benchmark.
type benchChecker struct {
	mu       sync.Mutex
	statuses map[string]health.Status
}

func (c *benchChecker) Status(key string) (health.Status, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, ok := c.statuses[key]
	return st, ok
}

func (c *benchChecker) Statuses() map[string]health.Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.statuses)
}

func (c *benchChecker) Push(string, bool, string) error { return nil }
func (c *benchChecker) Record(health.Event)             {}

func (c *benchChecker) set(keys []string, st health.Status) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range keys {
		c.statuses[k] = st
	}
}

func benchFailover(b *testing.B, ep string, total, killed int, oneByOne bool) {
	ctx, cancel := context.WithCancel(context.Background())
	prefix := fmt.Sprintf("failover-%d/", time.Now().UnixNano())
	keys := make([]string, total)
	for i := range keys {
		keys[i] = fmt.Sprintf("svc%04d.example.|e1", i)
	}
	dead := keys[:killed]
	t0 := time.Now()
	up := health.Status{State: health.Up, Since: t0, Added: t0, LastCheck: t0, LastOK: true, RTT: time.Millisecond}
	down := health.Status{State: health.Down, Since: t0, Added: t0, LastCheck: t0, LastError: "connection refused"}

	type node struct {
		chk *benchChecker
		v   *healthview.View
	}
	var nodes []*node
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	for i := range 3 {
		s, err := Open(ctx, Options{Endpoints: []string{ep}, Prefix: prefix})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		name := fmt.Sprintf("n%d", i)
		sess, err := s.Session(ctx, name, 10*time.Second)
		if err != nil {
			b.Fatal(err)
		}
		defer sess.Close()
		if oneByOne {
			sess = putEach{sess}
		}
		n := &node{chk: &benchChecker{statuses: map[string]health.Status{}}}
		n.chk.set(keys, up)
		n.v = healthview.New(n.chk, healthview.Options{Node: name})
		nodes = append(nodes, n)
		wg.Add(1)
		go func() { defer wg.Done(); _ = n.v.Run(ctx, sess) }()
		n.v.LocalChanged(context.Background(), keys)
	}
	// state waits until every node's view has every key of ks in want,
	// by the votes of all three nodes when full (so that no vote of the
	// round before is left in any view).
	state := func(ks []string, want health.State, full bool) {
		deadline := time.Now().Add(5 * time.Minute)
		for _, n := range nodes {
			for _, k := range ks {
				for {
					st, _ := n.v.Status(k)
					if st.State == want && (!full || strings.HasPrefix(st.View, "3 of 3 nodes")) {
						break
					}
					if time.Now().After(deadline) {
						b.Fatalf("%s is %v (%s), want %v", k, st.State, st.View, want)
					}
					time.Sleep(time.Millisecond)
				}
			}
		}
	}
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		for _, n := range nodes {
			n.chk.set(dead, up)
			n.v.LocalChanged(context.Background(), dead)
		}
		state(keys, health.Up, true)
		b.StartTimer()
		for _, n := range nodes {
			n.chk.set(dead, down)
			n.v.LocalChanged(context.Background(), dead)
		}
		state(dead, health.Down, false)
	}
}
