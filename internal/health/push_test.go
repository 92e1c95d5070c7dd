package health

import (
	"strings"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/model"
)

func pushTarget(key string, ttl time.Duration) Target {
	return Target{Key: key, Host: "192.0.2.1", Check: spec(model.CheckPush, func(s *model.CheckSpec) {
		s.PushTTL = model.Duration(ttl)
	})}
}

func TestPush(t *testing.T) {
	c := newChecker(t, Options{})
	c.SetTargets([]Target{pushTarget("p", 300*time.Millisecond)})
	if st, _ := c.Status("p"); st.State != Unknown {
		t.Fatalf("state %v before any push, want unknown", st.State)
	}
	steps := []struct {
		up     bool
		reason string
		want   State
	}{
		{true, "deploy ok", Up},
		{true, "", Up},
		{false, "draining", Down},
		{true, "", Up},
	}
	for _, s := range steps {
		if err := c.Push("p", s.up, s.reason); err != nil {
			t.Fatalf("push: %v", err)
		}
		if st, _ := c.Status("p"); st.State != s.want {
			t.Fatalf("after push(%v, %q): state %v, want %v", s.up, s.reason, st.State, s.want)
		}
	}
	st := waitState(t, c, "p", Down, 2*time.Second)
	if st.LastError != "push report expired" || st.LastOK {
		t.Errorf("status after expiry %+v", st)
	}
	want := []string{
		"unknown>up push: push: deploy ok",
		"up>down push: push: draining",
		"down>up push: push: up",
		"up>down push: push report expired",
	}
	if got := transitions(eventsOf(c, "p")); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestPushRenewal: pushes within the TTL keep the state. They come every
// 100ms for 1.5s against a TTL of 1s, which leaves a loaded machine 900ms
// of slack between two pushes.
func TestPushRenewal(t *testing.T) {
	c := newChecker(t, Options{})
	c.SetTargets([]Target{pushTarget("p", time.Second)})
	for range 15 {
		if err := c.Push("p", true, "alive"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if st, _ := c.Status("p"); st.State != Up {
		t.Fatalf("state %v with pushes inside the TTL, want up", st.State)
	}
	waitState(t, c, "p", Down, time.Second)
}

func TestPushErrors(t *testing.T) {
	c := newChecker(t, Options{})
	c.SetTargets([]Target{pushTarget("p", time.Minute), {Key: "h", Host: "127.0.0.1", Port: 1, Check: spec(model.CheckHTTP, func(s *model.CheckSpec) {
		s.Interval = model.Duration(time.Hour)
	})}})
	tests := []struct {
		key, want string
	}{
		{"nope", `push for "nope": no such health check target`},
		{"h", `push for "h": the target is checked by http, not push`},
	}
	for _, tt := range tests {
		if err := c.Push(tt.key, true, ""); err == nil || err.Error() != tt.want {
			t.Errorf("Push(%q) = %v, want %q", tt.key, err, tt.want)
		}
	}
	c.Close()
	if err := c.Push("p", true, ""); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("Push after Close = %v, want an error saying the checker is closed", err)
	}
}
