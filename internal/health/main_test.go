package health

import (
	"context"
	"net"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/stratusdns/stratus/internal/model"
)

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		os.Exit(runLoadHelper()) // a server process for the load measurement
	}
	goleak.VerifyTestMain(m)
}

// newChecker returns a checker whose first probes run at once, closed
// when the test ends.
func newChecker(t testing.TB, opts Options) *Checker {
	t.Helper()
	c := New(opts)
	c.jitter = func(time.Duration) time.Duration { return 0 }
	t.Cleanup(c.Close)
	return c
}

// spec returns a check of type typ with short, test-sized timings.
func spec(typ string, mod func(*model.CheckSpec)) model.CheckSpec {
	s := model.CheckSpec{
		Type:     typ,
		Interval: model.Duration(100 * time.Millisecond),
		Timeout:  model.Duration(time.Second),
		Rise:     1,
		Fall:     2,
	}
	if mod != nil {
		mod(&s)
	}
	s.Normalize()
	return s
}

// targetAt returns a target probing addr ("127.0.0.1:port").
func targetAt(t testing.TB, key, addr string, s model.CheckSpec) Target {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("split %q: %v", addr, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		t.Fatalf("port of %q: %v", addr, err)
	}
	return Target{Key: key, Check: s, Host: host, Port: uint16(p)}
}

// envFor returns the probe environment of a target, as the checker
// builds it, for tests of a prober alone.
func envFor(tg Target) *probeEnv {
	s := tg.Check
	s.Normalize()
	return &probeEnv{
		target:     tg,
		spec:       s,
		resolver:   net.DefaultResolver,
		ua:         DefaultUserAgent,
		idleClosed: func() {},
	}
}

// probeOnce runs one probe of tg with a fresh prober.
func probeOnce(t testing.TB, e *probeEnv) result {
	t.Helper()
	p, err := newProber(e)
	if err != nil {
		t.Fatalf("newProber: %v", err)
	}
	defer p.close()
	return p.probe(context.Background())
}

// waitFor polls cond until it holds or the timeout passes.
//
// It waits at least 30s whatever timeout says: a loaded machine (two
// cores, the race detector) can take far longer than an idle one, and a
// wait that succeeds ends at once. How fast checks react is for the
// benchmarks and the tests on a stepped clock.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	timeout = max(timeout, 30*time.Second)
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// waitState waits until the target's effective state is want and returns
// its status.
func waitState(t testing.TB, c *Checker, key string, want State, timeout time.Duration) Status {
	t.Helper()
	var st Status
	waitFor(t, timeout, key+" to be "+want.String(), func() bool {
		var ok bool
		st, ok = c.Status(key)
		return ok && st.State == want
	})
	return st
}

// eventsOf returns the logged events of one target.
func eventsOf(c *Checker, key string) []Event {
	var out []Event
	for _, ev := range c.Events(0, 0) {
		if ev.Key == key {
			out = append(out, ev)
		}
	}
	return out
}

// fakeProber returns scripted results: results in order, then rest
// forever. It records when each probe ran.
type fakeProber struct {
	mu      sync.Mutex
	results []result
	rest    result
	times   []time.Time
}

func (f *fakeProber) probe(ctx context.Context) result {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.times = append(f.times, time.Now())
	if len(f.results) > 0 {
		r := f.results[0]
		f.results = f.results[1:]
		return r
	}
	return f.rest
}

func (f *fakeProber) close() {}

func (f *fakeProber) calls() []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Time(nil), f.times...)
}

// useFakes makes the checker use the given fake probers by key (the real
// ones for other keys).
func useFakes(c *Checker, fakes map[string]*fakeProber) {
	c.proberFor = func(e *probeEnv) (prober, error) {
		if f, ok := fakes[e.target.Key]; ok {
			return f, nil
		}
		return newProber(e)
	}
}

var (
	okResult   = result{ok: true, rtt: time.Millisecond}
	hardResult = result{err: "connection refused", hard: true}
	softResult = result{err: "status 503, want 2xx or 3xx"}
)
