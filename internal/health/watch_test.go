package health

import (
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/model"
)

// TestStopDetectedFast: with fall 2, stopping the server takes the target
// down at once when a kept-alive connection is watched (the scheduling
// clock never moves), and otherwise at the next probe, whose hard failure
// is confirmed at once (both failures at the same instant).
func TestStopDetectedFast(t *testing.T) {
	const interval = time.Hour // the transport never closes the idle connection itself
	for _, keepAlive := range []bool{true, false} {
		name := map[bool]string{true: "keep-alive watched", false: "no keep-alive: hard failure confirmed at once"}[keepAlive]
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
			srv.Config.SetKeepAlivesEnabled(keepAlive)
			srv.Start()
			defer srv.Close()

			c, clock := newSteppedChecker(t, Options{})
			start := clock.Now()
			var (
				mu       sync.Mutex
				failures []time.Time
			)
			c.onProbe = func(_ string, r result) {
				if !r.ok {
					mu.Lock()
					failures = append(failures, clock.Now())
					mu.Unlock()
				}
			}
			c.SetTargets([]Target{targetAt(t, "k", srv.Listener.Addr().String(), spec(model.CheckHTTP, func(s *model.CheckSpec) {
				s.Interval = model.Duration(interval)
				s.Fall = 2
			}))})
			clock.waitArmed(t, start.Add(interval)) // the first probe is done
			if st, _ := c.Status("k"); st.State != Up {
				t.Fatalf("after the first probe: %v, want up", st.State)
			}
			srv.Close()
			failedAt := start
			if !keepAlive {
				clock.Step(interval) // the next probe
				failedAt = start.Add(interval)
			}
			waitState(t, c, "k", Down)
			mu.Lock()
			defer mu.Unlock()
			if want := []time.Time{failedAt, failedAt}; !slices.Equal(failures, want) {
				t.Errorf("failed probes at %v, want %v", offsets(start, failures), offsets(start, want))
			}
			evs := transitions(eventsOf(c, "k"))
			if len(evs) != 2 || evs[1] != "up>down check: 2 consecutive failures: connection refused" {
				t.Errorf("events %q", evs)
			}
		})
	}
}

// TestWatchDetectsClose: closing the server (which closes its idle
// connections) takes an Up target down at once: the scheduling clock
// never moves.
func TestWatchDetectsClose(t *testing.T) {
	for _, typ := range []string{model.CheckHTTP, model.CheckHTTPS, model.CheckTCP} {
		t.Run(typ, func(t *testing.T) {
			var addr string
			var stop func()
			switch typ {
			case model.CheckHTTP:
				srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
				addr, stop = srv.Listener.Addr().String(), srv.Close
			case model.CheckHTTPS:
				srv, _ := tlsServer(t)
				addr, stop = srv.Listener.Addr().String(), srv.Close
			case model.CheckTCP:
				ts := startTCP(t)
				addr, stop = ts.addr(), ts.close
			}
			no := false
			c, clock := newSteppedChecker(t, Options{})
			start := clock.Now()
			c.SetTargets([]Target{targetAt(t, "k", addr, spec(typ, func(s *model.CheckSpec) {
				s.Interval = model.Duration(time.Hour)
				s.TLSVerify = &no
			}))})
			clock.waitArmed(t, start.Add(time.Hour)) // up, and the connection idle and watched
			if st, _ := c.Status("k"); st.State != Up {
				t.Fatalf("after the first probe: %v, want up", st.State)
			}
			stop()
			waitState(t, c, "k", Down)
		})
	}
}

// TestWatchNoStorm: a server that closes idle connections at once costs
// at most one extra probe per interval, and changes nothing.
func TestWatchNoStorm(t *testing.T) {
	var requests, open atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { requests.Add(1) }))
	srv.Config.IdleTimeout = 5 * time.Millisecond
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			open.Add(1)
		case http.StateClosed, http.StateHijacked:
			open.Add(-1)
		}
	}
	srv.Start()
	defer srv.Close()

	const interval = 200 * time.Millisecond
	c, clock := newSteppedChecker(t, Options{})
	start := clock.Now()
	c.SetTargets([]Target{targetAt(t, "k", srv.Listener.Addr().String(), spec(model.CheckHTTP, func(s *model.CheckSpec) {
		s.Interval = model.Duration(interval)
	}))})
	// Each interval, the server closes the connection of the regular probe
	// (and of any probe the watch triggers). Whenever the checker sees a
	// close, the limit on probes is on the scheduling clock.
	const steps = 10
	idle := func() bool { return open.Load() == 0 }
	for i := 1; i <= steps; i++ {
		clock.waitArmed(t, start.Add(time.Duration(i)*interval)) // the regular probe is done
		waitFor(t, "the server to close its idle connections", idle)
		clock.Step(interval)
	}
	clock.waitArmed(t, start.Add((steps+1)*interval))
	waitFor(t, "the server to close its idle connections", idle)
	c.SetTargets(nil)
	n := requests.Load()
	// 11 regular probes (at 0 and after each step), and extra ones at
	// backed-off gaps of 1, 2, 4, 8 intervals.
	if limit := int64(steps + 1 + 6); n > limit {
		t.Errorf("%d probes in %d intervals, want at most %d", n, steps, limit)
	}
	if n < steps+1 {
		t.Errorf("only %d probes in %d intervals, want at least %d", n, steps, steps+1)
	}
	if evs := eventsOf(c, "k"); len(evs) != 1 {
		t.Errorf("events %q, want only the first up", transitions(evs))
	}
	t.Logf("%d probes in %d intervals with a server closing idle connections", n, steps)
}

// TestLostRequest: a server that fails exactly one request (a reset, or an
// answer too slow for the timeout) never takes the target down (fall 2).
func TestLostRequest(t *testing.T) {
	for _, mode := range []string{"reset", "timeout"} {
		t.Run(mode, func(t *testing.T) {
			var n atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if n.Add(1) != 3 {
					return
				}
				switch mode {
				case "reset":
					conn, _, err := w.(http.Hijacker).Hijack()
					if err != nil {
						t.Errorf("hijack: %v", err)
						return
					}
					conn.(*net.TCPConn).SetLinger(0)
					conn.Close()
				case "timeout":
					<-r.Context().Done() // the probe gives up
				}
			}))
			defer srv.Close()
			c, clock := newSteppedChecker(t, Options{})
			start := clock.Now()
			c.SetTargets([]Target{targetAt(t, "k", srv.Listener.Addr().String(), spec(model.CheckHTTP, func(s *model.CheckSpec) {
				s.Interval = model.Duration(100 * time.Millisecond)
				// Long enough for every other request on a loaded
				// machine; the lost one waits it out.
				s.Timeout = model.Duration(5 * time.Second)
				s.Fall = 2
			}))})
			for i := 1; n.Load() < 6; i++ {
				clock.waitArmed(t, start.Add(time.Duration(i)*100*time.Millisecond))
				clock.Step(100 * time.Millisecond)
			}
			if evs := eventsOf(c, "k"); len(evs) != 1 || evs[0].New != Up {
				t.Errorf("events %q, want only the first up", transitions(evs))
			}
		})
	}
}
