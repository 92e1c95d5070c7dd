package healthview

import (
	"fmt"
	"sync"

	"github.com/stratusdns/stratus/internal/clock"
	"github.com/stratusdns/stratus/internal/health"
)

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

// remove drops key's status: the node no longer checks it.
func (c *checker) remove(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.statuses, key)
}
