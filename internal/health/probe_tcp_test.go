package health

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/model"
)

// tcpServer accepts connections on 127.0.0.1 and holds them open until it
// is closed or drops them.
type tcpServer struct {
	l       net.Listener
	accepts atomic.Int64
	mu      sync.Mutex
	conns   []net.Conn
	wg      sync.WaitGroup
}

func startTCP(t testing.TB) *tcpServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &tcpServer{l: l}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns = append(s.conns, c)
			if len(s.conns) > 100 { // a benchmark: forget closed ones
				s.conns = s.conns[len(s.conns)-10:]
			}
			// Counted once it is in conns: a test that sees the count
			// and then drops the connections drops this one too.
			s.accepts.Add(1)
			s.mu.Unlock()
			s.wg.Add(1)
			go func() { // read until the client closes, then close
				defer s.wg.Done()
				io.Copy(io.Discard, c)
				c.Close()
			}()
		}
	}()
	t.Cleanup(s.close)
	return s
}

func (s *tcpServer) addr() string { return s.l.Addr().String() }

// drop closes the accepted connections, keeping the listener.
// waitAccepts waits until the server has taken n connections (a probe's
// connect completes before the server's accept returns) and says how
// many it has.
func (s *tcpServer) waitAccepts(t *testing.T, n int64) int64 {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for s.accepts.Load() < n && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	return s.accepts.Load()
}

func (s *tcpServer) drop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		c.Close()
	}
	s.conns = nil
}

// close closes the listener and every connection.
func (s *tcpServer) close() {
	s.l.Close()
	s.drop()
	s.wg.Wait()
}

func TestTCPProbe(t *testing.T) {
	srv := startTCP(t)
	tests := []struct {
		name    string
		addr    string
		ok      bool
		wantErr string
	}{
		{"listening", srv.addr(), true, ""},
		{"refused", closedPort(t), false, "connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := probeOnce(t, envFor(targetAt(t, "k", tt.addr, spec(model.CheckTCP, nil))))
			if r.ok != tt.ok || r.err != tt.wantErr || (!r.ok && !r.hard) {
				t.Fatalf("result %+v, want ok=%v err=%q", r, tt.ok, tt.wantErr)
			}
		})
	}
}

func TestTCPProbeNeedsPort(t *testing.T) {
	if _, err := newProber(envFor(Target{Key: "k", Host: "127.0.0.1", Check: spec(model.CheckTCP, nil)})); err == nil {
		t.Fatal("a tcp check without a port was accepted")
	}
}

// TestTCPWatchReprobes: when the endpoint drops the watched connection but
// still listens, the target is probed again at once and stays up; the
// prober keeps one connection at a time. The scheduling clock never moves:
// no regular probe comes.
func TestTCPWatchReprobes(t *testing.T) {
	srv := startTCP(t)
	c, clock := newSteppedChecker(t, Options{})
	c.SetTargets([]Target{targetAt(t, "k", srv.addr(), spec(model.CheckTCP, func(s *model.CheckSpec) {
		s.Interval = model.Duration(5 * time.Second)
	}))})
	clock.waitArmed(t, clock.Now().Add(5*time.Second)) // the first probe is done, its connection watched
	if n := srv.waitAccepts(t, 1); n != 1 {
		t.Fatalf("%d connections after the first probe, want 1", n)
	}
	armed := clock.Arms()
	srv.drop()
	clock.waitArms(t, armed) // the drop was seen and answered
	if n := srv.waitAccepts(t, 2); n != 2 {
		t.Fatalf("%d connections after the drop, want 2: the watch probes at once", n)
	}
	// A second drop within the interval is left to the regular probe.
	armed = clock.Arms()
	srv.drop()
	clock.waitArms(t, armed)
	if n := srv.accepts.Load(); n != 2 {
		t.Errorf("%d connections, want 2: watching probes at most once per interval", n)
	}
	if st, _ := c.Status("k"); st.State != Up {
		t.Errorf("state %v, want up", st.State)
	}
}
