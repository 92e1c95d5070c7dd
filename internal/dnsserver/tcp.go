package dnsserver

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stratusdns/stratus/internal/dnsconst"
)

var aLongTimeAgo = time.Unix(1, 0)

// TCP under abuse. Three limits keep one client, or many, from taking the
// listener from everyone else (RFC 7766 sections 6.2.2, 6.2.3 and 10):
//
//   - A client (one IPv4 address, one IPv6 /64: what one host can take
//     without asking anyone) holds at most TCPMaxConnsPerClient
//     connections; more are closed as soon as they are accepted. Networks
//     in TCPLimitExempt are not counted.
//   - Once the first octet of a message has arrived, the whole message
//     must arrive within TCPMessageTimeout: a client that trickles a
//     length prefix or a message is cut off.
//   - While more than half of TCPMaxConns are open, a connection waiting
//     for its next query is closed after TCPBusyIdleTimeout instead of
//     TCPIdleTimeout, and the idle connections open when that starts are
//     cut down to it at once. A full table thus sheds idle connections
//     within TCPBusyIdleTimeout until no more than half of it is open;
//     connections busy with a query or a zone transfer are never touched.
//
// Refused connections, cut messages and the start of pressure are logged
// through the server's rate-limited log.

// tcpConn is one accepted connection.
type tcpConn struct {
	c      net.Conn
	from   netip.Addr
	client netip.Prefix // the key of its per-client count; invalid when exempt

	mu        sync.Mutex
	idle      bool // waiting for the first octet of a query
	idleSince time.Time
}

// tcpConns is the set of open connections and their counts.
type tcpConns struct {
	busy  atomic.Bool // more than half of TCPMaxConns are open
	mu    sync.Mutex
	conns map[*tcpConn]struct{}
	per   map[netip.Prefix]int
}

// clientKey is the key connections are counted under: the address for
// IPv4, the /64 for IPv6.
func clientKey(a netip.Addr) netip.Prefix {
	a = a.Unmap()
	if a.Is4() {
		return netip.PrefixFrom(a, 32)
	}
	p, _ := a.Prefix(64)
	return p
}

// Reasons a connection is refused, as logged.
const (
	refusedFull   = "tcp connection refused: connection limit reached"
	refusedClient = "tcp connection refused: client at its connection limit"
)

// admit registers c, or returns the reason it is refused.
func (s *Server) admit(c net.Conn) (*tcpConn, string) {
	tc := &tcpConn{c: c}
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		tc.from = a.AddrPort().Addr().Unmap()
	}
	if !s.exempt(tc.from) {
		tc.client = clientKey(tc.from)
	}
	t := &s.tcpc
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case s.closing.Load():
		return nil, ""
	case len(t.conns) >= s.cfg.TCPMaxConns:
		return nil, refusedFull
	case tc.client.IsValid() && t.per[tc.client] >= s.cfg.TCPMaxConnsPerClient:
		return nil, refusedClient
	}
	t.conns[tc] = struct{}{}
	if tc.client.IsValid() {
		t.per[tc.client]++
	}
	if 2*len(t.conns) > s.cfg.TCPMaxConns && !t.busy.Swap(true) {
		// Pressure starts: cut the connections idle now down to the
		// busy timeout. Those that start waiting later see the flag.
		s.limited.Warn("tcp connections over half the limit: idle timeout shortened",
			"open", len(t.conns), "limit", s.cfg.TCPMaxConns, "idle_timeout", s.busyIdle())
		for o := range t.conns {
			o.mu.Lock()
			if o.idle {
				o.c.SetReadDeadline(o.idleSince.Add(s.busyIdle()))
			}
			o.mu.Unlock()
		}
	}
	return tc, ""
}

// release forgets tc.
func (s *Server) release(tc *tcpConn) {
	t := &s.tcpc
	t.mu.Lock()
	delete(t.conns, tc)
	if tc.client.IsValid() {
		if t.per[tc.client]--; t.per[tc.client] <= 0 {
			delete(t.per, tc.client)
		}
	}
	if 2*len(t.conns) <= s.cfg.TCPMaxConns {
		t.busy.Store(false)
	}
	t.mu.Unlock()
}

// exempt reports whether a is in a network TCPMaxConnsPerClient does not
// limit.
func (s *Server) exempt(a netip.Addr) bool {
	for _, p := range s.cfg.TCPLimitExempt {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func (s *Server) busyIdle() time.Duration {
	return min(s.cfg.TCPBusyIdleTimeout, s.cfg.TCPIdleTimeout)
}

// idleDeadline is when a connection idle since since is closed: after the
// idle timeout, or the busy one while the server is under pressure.
func idleDeadline(since time.Time, idle, busyIdle time.Duration, busy bool) time.Time {
	if busy {
		idle = min(idle, busyIdle)
	}
	return since.Add(idle)
}

// waitIdle arms the read deadline of a connection that starts waiting
// for a query (first is true) or whose deadline passed while it waited.
// It reports false when the connection is to be closed: its idle time
// is up, or the server is shutting down.
//
// A non-zero flush earlier than that deadline is set instead: the
// connection's tap has records to hand over by then.
func (s *Server) waitIdle(tc *tcpConn, first bool, flush time.Time) bool {
	now := s.now()
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if first {
		tc.idle, tc.idleSince = true, now
	}
	if s.closing.Load() {
		return false
	}
	dl := idleDeadline(tc.idleSince, s.cfg.TCPIdleTimeout, s.busyIdle(), s.tcpc.busy.Load())
	if !now.Before(dl) {
		return false
	}
	if !flush.IsZero() && flush.Before(dl) {
		dl = flush
	}
	tc.c.SetReadDeadline(dl)
	return true
}

// endIdle marks the connection as reading a message, due by the message
// timeout.
func (s *Server) endIdle(tc *tcpConn) {
	tc.mu.Lock()
	tc.idle = false
	tc.c.SetReadDeadline(s.now().Add(s.cfg.TCPMessageTimeout))
	tc.mu.Unlock()
}

// wakeTCP wakes every connection's read at shutdown.
func (s *Server) wakeTCP() {
	s.tcpc.mu.Lock()
	for tc := range s.tcpc.conns {
		tc.mu.Lock()
		tc.c.SetReadDeadline(aLongTimeAgo)
		tc.mu.Unlock()
	}
	s.tcpc.mu.Unlock()
}

// closeTCP closes every connection.
func (s *Server) closeTCP() {
	s.tcpc.mu.Lock()
	for tc := range s.tcpc.conns {
		tc.c.Close()
	}
	s.tcpc.mu.Unlock()
}

// acceptTCP accepts connections until the listener is closed. Connections
// beyond TCPMaxConns, or beyond TCPMaxConnsPerClient from one client, are
// closed at once.
func (s *Server) acceptTCP(l *net.TCPListener) {
	for {
		c, err := l.Accept()
		if err != nil {
			if isClosed(err) {
				return
			}
			time.Sleep(5 * time.Millisecond) // e.g. out of file descriptors
			continue
		}
		tc, why := s.admit(c)
		if tc == nil {
			c.Close()
			if why == refusedClient {
				s.limited.Info(why, "client", clientKey(remoteAddr(c)), "limit", s.cfg.TCPMaxConnsPerClient)
			} else if why != "" {
				s.limited.Info(why, "from", remoteAddr(c), "limit", s.cfg.TCPMaxConns)
			}
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() {
				// A panic ends the connection alone: the client asks
				// again on another.
				if r := recover(); r != nil {
					s.panicked(panicTCP, r)
				}
				s.release(tc)
				c.Close()
			}()
			s.serveTCP(tc)
		}()
	}
}

func remoteAddr(c net.Conn) netip.Addr {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		return a.AddrPort().Addr().Unmap()
	}
	return netip.Addr{}
}

// serveTCP answers length-prefixed queries (RFC 1035 section 4.2.2) on one
// connection, in order, as they arrive: pipelined queries are read from the
// buffer without waiting (RFC 7766 section 6.2.1.1). The connection closes
// when its idle time is up (see above), when a message does not arrive
// within TCPMessageTimeout of its first octet, on a request that is not a
// query, or at shutdown.
func (s *Server) serveTCP(tc *tcpConn) {
	c := tc.c
	st := s.stats.tcpTake()
	defer s.stats.tcpGive(st)
	h := s.handler(s.anomalies.tcpCounter(), st)
	tr := s.tapTCP(c)
	defer s.tapDone(tr)
	from := tc.from
	r := bufio.NewReaderSize(c, 4096)
	req := make([]byte, 0, 512)
	var prefix [2]byte
	var out []byte
	for !s.closing.Load() {
		if r.Buffered() == 0 {
			// The tap hands over what it holds once it waited a
			// while, waking the connection for it if no query comes.
			if !s.waitIdle(tc, true, tr.tcpIdle()) {
				return
			}
			for {
				_, err := r.Peek(1)
				if err == nil {
					break
				}
				if !errors.Is(err, os.ErrDeadlineExceeded) || !s.waitIdle(tc, false, tr.tcpIdle()) {
					return
				}
			}
		}
		s.endIdle(tc)
		if _, err := io.ReadFull(r, prefix[:]); err != nil {
			s.cutSlow(tc, err)
			return
		}
		n := int(binary.BigEndian.Uint16(prefix[:]))
		if cap(req) < n {
			req = make([]byte, 0, n)
		}
		req = req[:n]
		if _, err := io.ReadFull(r, req); err != nil {
			s.cutSlow(tc, err)
			return
		}
		received := tr.now()
		resp := h.serve(req, from, true)
		if st != nil {
			if resp != nil {
				st.sent(resp)
			}
			st.publish()
		}
		if queryHook != nil {
			queryHook(h)
		}
		if resp == nil && !h.handOver {
			return
		}
		var err error
		if h.handOver {
			s.ext.Serve(s.ctx, req, h.answer, from, true, func(m []byte) error {
				err = writeTCP(c, &out, m, s.cfg.TCPIdleTimeout)
				return err
			})
		} else {
			err = writeTCP(c, &out, resp, s.cfg.TCPIdleTimeout)
			tr.addTCP(h, req, resp, received)
		}
		if err != nil {
			return
		}
	}
}

// cutSlow logs a connection closed because a message it started did not
// arrive in time.
func (s *Server) cutSlow(tc *tcpConn, err error) {
	if errors.Is(err, os.ErrDeadlineExceeded) && !s.closing.Load() {
		s.limited.Info("tcp connection closed: message not received in time", "from", tc.from, "timeout", s.cfg.TCPMessageTimeout)
	}
}

// writeTCP writes one length-prefixed message in one write, so prefix and
// message leave in one segment. out is the buffer it reuses.
func writeTCP(c net.Conn, out *[]byte, m []byte, timeout time.Duration) error {
	if len(m) > dnsconst.MaxMessageSize {
		return fmt.Errorf("message of %d octets is too long for TCP", len(m))
	}
	*out = binary.BigEndian.AppendUint16((*out)[:0], uint16(len(m)))
	*out = append(*out, m...)
	c.SetWriteDeadline(time.Now().Add(timeout))
	_, err := c.Write(*out)
	return err
}
