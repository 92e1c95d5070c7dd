package dnsserver

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/testutil"
	"github.com/stratusdns/stratus/internal/zone"
	"github.com/stratusdns/stratus/internal/zone/zonetest"
)

// dialFrom opens a TCP connection to addr from the loopback address src.
func dialFrom(t *testing.T, src, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: time.Minute}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial from %s: %v", src, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// query sends one query on c and reports whether it was answered.
func tcpQuery(c net.Conn) error {
	co := &dns.Conn{Conn: c}
	m := new(dns.Msg)
	m.SetQuestion("www.example.com.", dns.TypeA)
	c.SetDeadline(time.Now().Add(time.Minute))
	if err := co.WriteMsg(m); err != nil {
		return err
	}
	r, err := co.ReadMsg()
	if err != nil {
		return err
	}
	if r.Rcode != dns.RcodeSuccess || len(r.Answer) == 0 {
		return errors.New("not answered: " + dns.RcodeToString[r.Rcode])
	}
	return nil
}

// waitClosed waits until the server closes c (bounded generously: it
// fails when the server keeps it open).
func waitClosed(t *testing.T, c net.Conn, what string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	var b [512]byte
	for {
		_, err := c.Read(b[:])
		switch {
		case err == nil:
			continue // an answer still on its way
		case errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET):
			return
		case errors.Is(err, os.ErrDeadlineExceeded):
			t.Fatalf("%s: the server kept the connection open", what)
		default:
			t.Fatalf("%s: %v", what, err)
		}
	}
}

func TestTCPPerClientLimit(t *testing.T) {
	_, addr := startServer(t, Config{TCPMaxConnsPerClient: 3, TCPIdleTimeout: time.Hour})
	var held []net.Conn
	for range 3 {
		c := dialFrom(t, "127.0.0.2", addr)
		if err := tcpQuery(c); err != nil {
			t.Fatalf("connection within the limit: %v", err)
		}
		held = append(held, c)
	}
	over := dialFrom(t, "127.0.0.2", addr)
	waitClosed(t, over, "a connection over the client's limit")

	// Another client is not affected.
	if err := tcpQuery(dialFrom(t, "127.0.0.3", addr)); err != nil {
		t.Fatalf("another client: %v", err)
	}
	// A connection given back makes room for the client again.
	held[0].Close()
	deadline := time.Now().Add(time.Minute)
	for {
		c := dialFrom(t, "127.0.0.2", addr)
		err := tcpQuery(c)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the client never got its room back: %v", err)
		}
		time.Sleep(10 * time.Millisecond) // the server has not seen the close yet
	}
}

func TestTCPLimitExempt(t *testing.T) {
	_, addr := startServer(t, Config{TCPMaxConnsPerClient: 1, TCPIdleTimeout: time.Hour,
		TCPLimitExempt: []netip.Prefix{netip.MustParsePrefix("127.0.0.4/32")}})
	for i := range 3 {
		if err := tcpQuery(dialFrom(t, "127.0.0.4", addr)); err != nil {
			t.Fatalf("exempt connection %d: %v", i, err)
		}
	}
}

func TestTCPClientKey(t *testing.T) {
	for _, tc := range []struct{ addr, want string }{
		{"192.0.2.1", "192.0.2.1/32"},
		{"::ffff:192.0.2.1", "192.0.2.1/32"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"},
	} {
		if got := clientKey(netip.MustParseAddr(tc.addr)).String(); got != tc.want {
			t.Errorf("clientKey(%s) = %s, want %s", tc.addr, got, tc.want)
		}
	}
}

func TestTCPTrickleIsCut(t *testing.T) {
	_, addr := startServer(t, Config{TCPMessageTimeout: 100 * time.Millisecond, TCPIdleTimeout: time.Hour})
	t.Run("half a length prefix", func(t *testing.T) {
		c := dialFrom(t, "127.0.0.5", addr)
		if err := tcpQuery(c); err != nil { // the connection is admitted and idle
			t.Fatal(err)
		}
		c.Write([]byte{0})
		waitClosed(t, c, "half a length prefix")
	})
	t.Run("a message an octet at a time", func(t *testing.T) {
		c := dialFrom(t, "127.0.0.6", addr)
		c.Write([]byte{0x01, 0x00}) // 256 octets announced
		var sent atomic.Int32
		go func() {
			for range 256 {
				if _, err := c.Write([]byte{0}); err != nil {
					return
				}
				sent.Add(1)
				time.Sleep(20 * time.Millisecond)
			}
		}()
		waitClosed(t, c, "a trickled message")
		if n := sent.Load(); n >= 256 {
			t.Fatalf("the whole trickled message (%d octets) was read", n)
		}
	})
}

// While more than half of the connection cap is open, idle connections
// close after the busy idle timeout, until no more than half are open.
func TestTCPIdleShortensUnderPressure(t *testing.T) {
	s, addr := startServer(t, Config{TCPMaxConns: 4, TCPIdleTimeout: time.Hour, TCPBusyIdleTimeout: 50 * time.Millisecond})
	open := func() int {
		s.tcpc.mu.Lock()
		defer s.tcpc.mu.Unlock()
		return len(s.tcpc.conns)
	}
	first := dialFrom(t, "127.0.0.7", addr)
	if err := tcpQuery(first); err != nil {
		t.Fatal(err)
	}
	if s.tcpc.busy.Load() {
		t.Fatal("busy with one connection of four")
	}
	// Two more, each answered, then idle: three of four are open.
	for _, src := range []string{"127.0.0.8", "127.0.0.9"} {
		if err := tcpQuery(dialFrom(t, src, addr)); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for open() > 2 {
		if time.Now().After(deadline) {
			t.Fatalf("%d idle connections of at most 4 still open: none was closed under pressure", open())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if s.tcpc.busy.Load() {
		t.Error("still under pressure with two connections of four")
	}
}

func TestTCPIdleDeadline(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		idle, busyIdle time.Duration
		busy           bool
		want           time.Duration
	}{
		{10 * time.Second, time.Second, false, 10 * time.Second},
		{10 * time.Second, time.Second, true, time.Second},
		{500 * time.Millisecond, time.Second, true, 500 * time.Millisecond}, // never longer than idle
	} {
		if got := idleDeadline(t0, tc.idle, tc.busyIdle, tc.busy).Sub(t0); got != tc.want {
			t.Errorf("idleDeadline(idle %v, busy idle %v, busy %v) = %v, want %v", tc.idle, tc.busyIdle, tc.busy, got, tc.want)
		}
	}
}

// blockingExtended holds every handed-over request until release is
// closed, then answers it with count messages.
type blockingExtended struct {
	started chan struct{}
	release chan struct{}
	count   int
}

func (e *blockingExtended) Serve(_ context.Context, req, _ []byte, _ netip.Addr, _ bool, write func([]byte) error) {
	e.started <- struct{}{}
	<-e.release
	m := new(dns.Msg)
	m.Unpack(req)
	r := new(dns.Msg)
	r.SetReply(m)
	b, _ := r.Pack()
	for range e.count {
		if write(b) != nil {
			return
		}
	}
}

// A zone transfer under way is not cut by pressure on the listener.
func TestTCPTransferSurvivesPressure(t *testing.T) {
	var src atomic.Pointer[zone.Snapshot]
	src.Store(zonetest.Build(t, map[string]string{"example.com.": zonetest.ExampleCom}))
	s, err := New(Config{Listen: []string{"127.0.0.1:0"}, TCPMaxConns: 2, TCPIdleTimeout: time.Hour,
		TCPBusyIdleTimeout: time.Millisecond, TCPMessageTimeout: 100 * time.Millisecond}, &src, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ext := &blockingExtended{started: make(chan struct{}, 1), release: make(chan struct{}), count: 50}
	s.SetExtended(ext)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	released := false
	defer func() { // a failure must not leave Shutdown waiting on the transfer
		if !released {
			close(ext.release)
		}
	}()
	addr := s.Addrs()[0].String()

	xfr := dialFrom(t, "127.0.0.10", addr)
	co := &dns.Conn{Conn: xfr}
	m := new(dns.Msg)
	m.SetAxfr("example.com.")
	if err := co.WriteMsg(m); err != nil {
		t.Fatal(err)
	}
	<-ext.started
	// Two of two connections: pressure. Under pressure a connection idle
	// for a millisecond is cut, and a loaded machine may take longer than
	// that to send the query: connect again until one is answered.
	for attempt := 1; ; attempt++ {
		err := tcpQuery(dialFrom(t, "127.0.0.11", addr))
		if err == nil {
			break
		}
		if attempt == 100 {
			t.Fatalf("no query answered on a second connection in %d attempts: %v", attempt, err)
		}
	}
	released = true
	close(ext.release)
	xfr.SetReadDeadline(time.Now().Add(time.Minute))
	for i := range ext.count {
		if _, err := co.ReadMsg(); err != nil {
			t.Fatalf("transfer message %d: %v", i, err)
		}
	}
}

// A UDP request handed over while maxExtendedUDP are in flight is dropped,
// and the drop is logged (rate-limited).
func TestHandOverDropLogged(t *testing.T) {
	var src atomic.Pointer[zone.Snapshot]
	src.Store(zonetest.Build(t, map[string]string{"example.com.": zonetest.ExampleCom}))
	var logs testutil.LogBuffer
	s, err := New(Config{Listen: []string{"127.0.0.1:0"}}, &src, nil, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ext := &blockingExtended{started: make(chan struct{}, 2*maxExtendedUDP), release: make(chan struct{}), count: 1}
	s.SetExtended(ext)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	defer close(ext.release)
	c, err := net.Dial("udp", s.Addrs()[0].String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	m := new(dns.Msg)
	m.SetNotify("example.com.")
	b, _ := m.Pack()
	deadline := time.Now().Add(time.Minute)
	for started := 0; started < maxExtendedUDP; {
		c.Write(b)
		select {
		case <-ext.started:
			started++
		case <-time.After(10 * time.Millisecond): // a datagram lost: send another
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d requests handed over", started)
		}
	}
	for !strings.Contains(logs.String(), "handed-over request dropped: too many in flight") {
		if time.Now().After(deadline) {
			t.Fatalf("no log line for the dropped requests:\n%s", logs.String())
		}
		c.Write(b)
		time.Sleep(10 * time.Millisecond)
	}
}
