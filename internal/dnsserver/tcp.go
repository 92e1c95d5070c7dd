package dnsserver

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/netip"
	"time"

	"github.com/stratusdns/stratus/internal/dnsconst"
)

var aLongTimeAgo = time.Unix(1, 0)

// acceptTCP accepts connections until the listener is closed. Connections
// beyond TCPMaxConns are closed at once.
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
		if s.tcpCount.Add(1) > int64(s.cfg.TCPMaxConns) || s.closing.Load() {
			s.tcpCount.Add(-1)
			c.Close()
			continue
		}
		s.connsMu.Lock()
		s.conns[c] = struct{}{}
		s.connsMu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serveTCP(c)
			s.connsMu.Lock()
			delete(s.conns, c)
			s.connsMu.Unlock()
			s.tcpCount.Add(-1)
			c.Close()
		}()
	}
}

// serveTCP answers length-prefixed queries (RFC 1035 section 4.2.2) on one
// connection, in order, as they arrive: pipelined queries are read from the
// buffer without waiting (RFC 7766 section 6.2.1.1). The connection closes
// after TCPIdleTimeout without a query, on a request that is not a query,
// or at shutdown.
func (s *Server) serveTCP(c net.Conn) {
	h := s.handler()
	var from netip.Addr
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		from = a.AddrPort().Addr().Unmap()
	}
	r := bufio.NewReaderSize(c, 4096)
	req := make([]byte, 0, 512)
	var prefix [2]byte
	var out []byte
	for !s.closing.Load() {
		if r.Buffered() == 0 {
			c.SetReadDeadline(time.Now().Add(s.cfg.TCPIdleTimeout))
		}
		if _, err := io.ReadFull(r, prefix[:]); err != nil {
			return
		}
		n := int(binary.BigEndian.Uint16(prefix[:]))
		if cap(req) < n {
			req = make([]byte, 0, n)
		}
		req = req[:n]
		if _, err := io.ReadFull(r, req); err != nil {
			return
		}
		resp := h.serve(req, from, true)
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
		}
		if err != nil {
			return
		}
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
