package etcd

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/store"
)

// blackhole is a TCP proxy to etcd that can stop passing bytes either
// way while keeping its connections open: packets dropped on the way, no
// reset, as a cut-off network does.
type blackhole struct {
	l      net.Listener
	target string
	cut    atomic.Bool
	mu     sync.Mutex
	conns  []net.Conn
	wg     sync.WaitGroup
}

func newBlackhole(t *testing.T, target string) *blackhole {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &blackhole{l: l, target: target}
	b.wg.Add(1)
	go b.accept()
	t.Cleanup(b.close)
	return b
}

func (b *blackhole) endpoint() string { return "http://" + b.l.Addr().String() }

func (b *blackhole) accept() {
	defer b.wg.Done()
	for {
		c, err := b.l.Accept()
		if err != nil {
			return
		}
		u, err := net.Dial("tcp", b.target)
		if err != nil {
			_ = c.Close()
			continue
		}
		b.mu.Lock()
		b.conns = append(b.conns, c, u)
		b.mu.Unlock()
		b.wg.Add(2)
		go b.pipe(c, u)
		go b.pipe(u, c)
	}
}

// pipe copies src to dst, dropping what it reads while the proxy is cut.
func (b *blackhole) pipe(dst, src net.Conn) {
	defer b.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !b.cut.Load() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if err != io.EOF {
				_ = dst.Close()
			}
			return
		}
	}
}

func (b *blackhole) close() {
	_ = b.l.Close()
	b.mu.Lock()
	for _, c := range b.conns {
		_ = c.Close()
	}
	b.mu.Unlock()
	b.wg.Wait()
}

// doneBound is how long after a node is cut off its session's Done may
// take to close in these tests: the ttl, which bounds it (the lease's
// deadline is at most a ttl after the cut), plus a margin for a loaded
// machine's scheduling.
const doneBound = sessionTTL + 2*time.Second

// waitClosed waits up to a minute for ch and returns how long it took.
func waitClosed(t *testing.T, ch <-chan struct{}, what string) time.Duration {
	t.Helper()
	start := time.Now()
	select {
	case <-ch:
		return time.Since(start)
	case <-time.After(time.Minute):
		t.Fatalf("%s did not close", what)
		return 0
	}
}

// TestSessionCutOff: a node whose packets to etcd are dropped sees its
// session's and its term's Done close within doneBound; its fenced write
// fails with ErrFenced; a node on another client, campaigning meanwhile,
// leads once the lease expires on the servers.
func TestSessionCutOff(t *testing.T) {
	ctx := context.Background()
	ep := etcdEndpoint(t)
	prefix := t.TempDir() + "/"
	hole := newBlackhole(t, ep[len("http://"):])
	sa, err := Open(ctx, Options{Endpoints: []string{hole.endpoint()}, Prefix: prefix, RequestTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer sa.Close()
	sb := openPrefix(t, prefix)

	a, err := sa.Session(ctx, "a", sessionTTL)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ta, err := a.Campaign(ctx, "e", []byte("a"))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Put(ctx, "members/a", []byte("up")); err != nil {
		t.Fatal(err)
	}
	b, err := sb.Session(ctx, "b", sessionTTL)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	won := make(chan time.Time, 1)
	var tb store.Term
	var berr error
	go func() {
		tb, berr = b.Campaign(ctx, "e", []byte("b"))
		won <- time.Now()
	}()

	cut := time.Now()
	hole.cut.Store(true)
	took := waitClosed(t, a.Done(), "a's session Done")
	t.Logf("a's Done closed %v after the cut (ttl %v)", took, sessionTTL)
	if took > doneBound {
		t.Errorf("a's Done closed %v after the cut, want within %v", took, doneBound)
	}
	waitClosed(t, ta.Done(), "a's term Done")
	if _, err := sa.Update(ta.Fence(ctx), func(tx store.Tx) error { return tx.Put("late", nil) }); !errors.Is(err, store.ErrFenced) {
		t.Errorf("a's fenced Update after the cut: %v, want ErrFenced", err)
	}
	var at time.Time
	select {
	case at = <-won:
	case <-time.After(time.Minute):
		t.Fatal("b did not take over")
	}
	if berr != nil {
		t.Fatalf("b's Campaign: %v", berr)
	}
	t.Logf("b leads %v after the cut", at.Sub(cut))
	if v, err := b.Leader(ctx, "e"); err != nil || string(v) != "b" {
		t.Fatalf("leader %q, %v; want b", v, err)
	}
	evs, err := b.List(ctx, "members/")
	if err != nil || len(evs) != 0 {
		t.Fatalf("a's ephemeral key after its lease expired: %v, %v", evs, err)
	}
	if err := tb.Resign(ctx); err != nil {
		t.Fatal(err)
	}
	hole.cut.Store(false)
}

// TestSessionEtcdFrozen: with etcd frozen (SIGSTOP) every session sees
// Done close within doneBound; once etcd runs again, a new session on
// another client leads the election the frozen-out leader held, as the
// old lease has expired.
func TestSessionEtcdFrozen(t *testing.T) {
	p, ep, err := startEtcd(t, "http", readyWith(Options{}))
	if err != nil {
		t.Fatalf("start etcd: %v", err)
	}
	t.Cleanup(func() { _ = p.cmd.Process.Signal(syscall.SIGCONT); p.stop() })
	ctx := context.Background()
	open := func() *Store {
		s, err := Open(ctx, Options{Endpoints: []string{ep}, Prefix: "frozen/", RequestTimeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	sa, sb := open(), open()
	a, err := sa.Session(ctx, "a", sessionTTL)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ta, err := a.Campaign(ctx, "e", []byte("a"))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	took := waitClosed(t, a.Done(), "a's session Done")
	t.Logf("a's Done closed %v after etcd froze (ttl %v)", took, sessionTTL)
	if took > doneBound {
		t.Errorf("a's Done closed %v after etcd froze, want within %v", took, doneBound)
	}
	waitClosed(t, ta.Done(), "a's term Done")
	if err := p.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	// A new session for b: etcd answers again once it runs.
	var b store.Session
	for {
		b, err = sb.Session(ctx, "b", sessionTTL)
		if err == nil {
			break
		}
		if !errors.Is(err, store.ErrUnavailable) {
			t.Fatal(err)
		}
	}
	defer b.Close()
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	tb, err := b.Campaign(cctx, "e", []byte("b"))
	if err != nil {
		t.Fatalf("b's Campaign after etcd resumed: %v", err)
	}
	if v, err := b.Leader(ctx, "e"); err != nil || string(v) != "b" {
		t.Fatalf("leader %q, %v; want b", v, err)
	}
	if _, err := sa.Update(ta.Fence(ctx), func(tx store.Tx) error { return tx.Put("late", nil) }); !errors.Is(err, store.ErrFenced) {
		t.Errorf("a's fenced Update: %v, want ErrFenced", err)
	}
	if _, err := sb.Update(tb.Fence(ctx), func(tx store.Tx) error { return tx.Put("new", nil) }); err != nil {
		t.Errorf("b's fenced Update: %v", err)
	}
}
