package health

import (
	"bytes"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/model"
)

// pythonServer is `python3 -m http.server` on a free loopback port, its
// standard error kept.
type pythonServer struct {
	addr   string
	cmd    *exec.Cmd
	mu     sync.Mutex
	stderr bytes.Buffer
	exited chan struct{}
}

func (s *pythonServer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stderr.Write(p)
}

// log returns what the server wrote to standard error so far.
func (s *pythonServer) log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stderr.String()
}

// startPython starts python3's http.server speaking protocol (HTTP/1.0:
// every response closes its connection; HTTP/1.1: kept alive), and waits
// until it accepts connections. It is killed when the test ends.
func startPython(t *testing.T, protocol string) *pythonServer {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not installed")
	}
	for try := 0; ; try++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		s := &pythonServer{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), exited: make(chan struct{})}
		s.cmd = exec.Command("python3", "-u", "-m", "http.server", "--bind", "127.0.0.1", "--protocol", protocol,
			"--directory", t.TempDir(), strconv.Itoa(port))
		s.cmd.Stderr = s
		if err := s.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { s.cmd.Wait(); close(s.exited) }()
		t.Cleanup(func() { s.kill() })
		up := false
		for deadline := time.Now().Add(patience); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			select {
			case <-s.exited:
			default:
				if c, err := net.Dial("tcp", s.addr); err == nil {
					c.Close()
					up = true
				}
			}
			if up || s.done() {
				break
			}
		}
		switch {
		case up:
			return s
		case try < 3 && s.done(): // lost the port to another process: again
			continue
		}
		t.Fatalf("python3 -m http.server did not start on %s: %s", s.addr, s.log())
	}
}

func (s *pythonServer) done() bool {
	select {
	case <-s.exited:
		return true
	default:
		return false
	}
}

// stop ends the server with SIGINT (as Ctrl-C would) and waits for it.
func (s *pythonServer) stop() {
	s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		s.kill()
	}
}

func (s *pythonServer) kill() {
	s.cmd.Process.Kill()
	<-s.exited
}

// TestProbesLeaveNoErrorsInServerLog: checking python3's http.server, with
// and without keep-alive, for a few dozen intervals leaves only its access
// log lines on its standard error: no traceback, no connection reset by
// the checker.
func TestProbesLeaveNoErrorsInServerLog(t *testing.T) {
	for _, protocol := range []string{"HTTP/1.0", "HTTP/1.1"} {
		t.Run(protocol, func(t *testing.T) {
			srv := startPython(t, protocol)
			c := newChecker(t, Options{})
			// After 20 probes, the target's goroutine waits between two
			// probes until it is being stopped: stopping it then closes
			// only idle connections, as a checker with a longer interval
			// almost always does (a probe cut short by a stop is another
			// matter).
			parked, release := make(chan struct{}), make(chan struct{})
			var n int
			c.onProbe = func(string, result) {
				if n++; n == 20 {
					close(parked)
					<-release
				}
			}
			c.SetTargets([]Target{targetAt(t, "k", srv.addr, spec(model.CheckHTTP, func(s *model.CheckSpec) {
				s.Interval = model.Duration(20 * time.Millisecond)
			}))})
			select {
			case <-parked:
			case <-time.After(patience):
				t.Fatalf("20 probes did not run: %d did", c.probes.Load())
			}
			stopped := make(chan struct{})
			go func() { c.SetTargets(nil); close(stopped) }() // closes what the checker holds
			waitFor(t, "the target to be removed", func() bool { _, ok := c.Status("k"); return !ok })
			close(release)
			<-stopped
			srv.stop()
			log := srv.log()
			var access int
			var other []string
			for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
				switch {
				case strings.Contains(line, `"GET / HTTP/1.1" 200`):
					access++
				case strings.Contains(line, "Keyboard interrupt received"):
				default:
					other = append(other, line)
				}
			}
			if len(other) > 0 {
				t.Errorf("%d lines in the server's log other than requests, starting:\n%s", len(other), strings.Join(other[:min(len(other), 20)], "\n"))
			}
			if access < 20 {
				t.Errorf("%d requests in the server's log, want at least 20:\n%s", access, log)
			}
			if evs := eventsOf(c, "k"); len(evs) != 1 {
				t.Errorf("events %q, want only the first up", transitions(evs))
			}
		})
	}
}

// TestKeepAliveEndpointWatched: an endpoint that keeps connections alive
// (python3's http.server speaking HTTP/1.1) is still watched: killed, it
// is down at once, without the scheduling clock moving to the next
// interval.
func TestKeepAliveEndpointWatched(t *testing.T) {
	srv := startPython(t, "HTTP/1.1")
	c, clock := newSteppedChecker(t, Options{})
	c.SetTargets([]Target{targetAt(t, "k", srv.addr, spec(model.CheckHTTP, func(s *model.CheckSpec) {
		s.Interval = model.Duration(time.Hour)
	}))})
	clock.waitArmed(t, clock.Now().Add(time.Hour)) // the first probe is done, its connection watched
	if st, _ := c.Status("k"); st.State != Up {
		t.Fatalf("after the first probe: %v, want up", st.State)
	}
	srv.kill()
	waitState(t, c, "k", Down)
}
