package health

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/stratusdns/stratus/internal/clock"
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

// probeTimeout is the Timeout of the checks tests use: a probe that is
// to reach a result other than a timeout must get there even on a loaded
// machine (under the race detector, a TLS handshake alone can take a
// second). Tests of timeouts set a short one themselves.
const probeTimeout = 30 * time.Second

// spec returns a check of type typ with a short interval.
func spec(typ string, mod func(*model.CheckSpec)) model.CheckSpec {
	s := model.CheckSpec{
		Type:     typ,
		Interval: model.Duration(100 * time.Millisecond),
		Timeout:  model.Duration(probeTimeout),
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

// patience is how long a test waits for a state before it gives up: long
// enough that only a state never reached, not a slow machine, ends the
// wait.
const patience = time.Minute

// waitFor polls cond until it holds, for at most patience.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", patience, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// waitState waits until the target's effective state is want and returns
// its status.
func waitState(t testing.TB, c *Checker, key string, want State) Status {
	t.Helper()
	var st Status
	waitFor(t, key+" to be "+want.String(), func() bool {
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
// forever. It records when each probe ran, on now (default time.Now).
type fakeProber struct {
	mu      sync.Mutex
	results []result
	rest    result
	now     func() time.Time
	times   []time.Time
}

func (f *fakeProber) probe(ctx context.Context) result {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now
	if f.now != nil {
		now = f.now
	}
	f.times = append(f.times, now())
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

// epoch is where the tests' fake clocks start.
var epoch = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// fakeClock is the Options.Clock of a stepped checker: a clock.Fake that
// moves only when the test steps it (the target goroutines' timers fire
// then, and only then), with waits on its timers.
type fakeClock struct{ *clock.Fake }

// newSteppedChecker returns a checker like newChecker that runs on a
// clock the test steps.
func newSteppedChecker(t testing.TB, opts Options) (*Checker, fakeClock) {
	t.Helper()
	f := fakeClock{clock.NewFake(epoch)}
	opts.Clock = f
	return newChecker(t, opts), f
}

// waitArms waits until a timer is armed for the time more than n times
// in all (clock.Fake.Arms): the goroutine that armed it is done with
// what woke it.
func (f fakeClock) waitArms(t testing.TB, n int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("a timer armed more than %d times", n), func() bool { return f.Arms() > n })
}

// waitArmed waits until a target goroutine waits for its timer to fire
// at when: everything it had to do before then is done.
func (f fakeClock) waitArmed(t testing.TB, when time.Time) {
	t.Helper()
	f.waitArmedN(t, when, 1)
}

// waitArmedN waits until n target goroutines wait for their timers to
// fire at when: each is done with everything before then.
func (f fakeClock) waitArmedN(t testing.TB, when time.Time, n int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d timers armed for %s", n, when.Format(time.StampMilli)), func() bool { return f.ArmedAt(when) >= n })
}
