package dnsserver

import (
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/stratusdns/stratus/internal/dnsconst"
)

// udpBatchSize is the most datagrams read (recvmmsg) or written
// (sendmmsg) by one system call.
const udpBatchSize = 32

// maxQuerySize bounds the datagram a reader accepts: the largest UDP
// payload, so that no query is ever cut short.
const maxQuerySize = dnsconst.MaxMessageSize

// maxUDPReply is the largest reply sent over UDP (the most a Config's
// UDPSize allows).
const maxUDPReply = dnsconst.MaxUDPSize

// udpSocket is one UDP socket. A listen address has one per reader, all
// bound to the same address and port with SO_REUSEPORT so the kernel
// spreads clients across them. A socket bound to a wildcard address asks
// the kernel for each packet's destination address so the reply leaves
// from the address the query was sent to, as clients require on hosts with
// more than one address.
type udpSocket struct {
	conn    *net.UDPConn
	pktinfo bool
	v6      bool
}

// listenUDP binds n sockets to ap (n > 1 needs SO_REUSEPORT; where the
// system has none, one socket is bound). With port 0 the kernel picks the
// port for the first and the others join it.
func listenUDP(ap netip.AddrPort, n int) ([]*udpSocket, error) {
	if n > 1 && !haveReusePort {
		n = 1
	}
	var out []*udpSocket
	for i := 0; i < n; i++ {
		u, err := bindUDP(ap, n > 1)
		if err != nil {
			closeUDP(out)
			return nil, err
		}
		out = append(out, u)
		ap = netip.AddrPortFrom(ap.Addr(), uint16(u.conn.LocalAddr().(*net.UDPAddr).Port))
	}
	return out, nil
}

func bindUDP(ap netip.AddrPort, reusePort bool) (*udpSocket, error) {
	c, err := listenPacket(ap, reusePort)
	if err != nil {
		return nil, err
	}
	u, err := newUDPSocket(c, ap.Addr().IsUnspecified())
	if err != nil {
		c.Close()
		return nil, err
	}
	return u, nil
}

// newUDPSocket serves c; with pktinfo, replies leave from the address each
// query was sent to.
func newUDPSocket(c *net.UDPConn, pktinfo bool) (*udpSocket, error) {
	u := &udpSocket{conn: c, pktinfo: pktinfo, v6: c.LocalAddr().(*net.UDPAddr).IP.To4() == nil}
	if pktinfo {
		if err := enablePacketInfo(c, u.v6); err != nil {
			return nil, fmt.Errorf("ask for packet destinations: %w", err)
		}
	}
	return u, nil
}

// udpNetwork and tcpNetwork name the address family of ap: a listen
// address serves one family ("[::]:53" is IPv6 only, as in BIND and Knot),
// so 0.0.0.0:53 and [::]:53 can both be listed.
func udpNetwork(ap netip.AddrPort) string {
	if ap.Addr().Is4() {
		return "udp4"
	}
	return "udp6"
}

func tcpNetwork(ap netip.AddrPort) string {
	if ap.Addr().Is4() {
		return "tcp4"
	}
	return "tcp6"
}

func closeUDP(us []*udpSocket) {
	for _, u := range us {
		u.conn.Close()
	}
}

// serveUDP reads and answers queries on u until the socket is closed:
// a batch of queries read with one system call is answered with one. A
// panic while serving drops the rest of its batch; the reader goes on
// with a fresh handler (the old one's state may be half-written).
func (s *Server) serveUDP(u *udpSocket) {
	an := s.anomalies.reader()
	st := s.stats.udpReader()
	b := newUDPBatch(u)
	tr := s.tapReader()
	for !s.serveUDPBatches(u, b, s.handler(an, st), tr) {
	}
}

// serveUDPBatches serves batches with h until the socket is closed (then
// it returns true) or a query panics (false, once the panic is reported).
func (s *Server) serveUDPBatches(u *udpSocket, b *udpBatch, h *handler, tr *tapReader) (closed bool) {
	defer func() {
		if r := recover(); r != nil {
			s.panicked(panicUDP, r)
		}
	}()
	for {
		tr.armIdle(u.conn)
		n, err := b.read()
		if err != nil {
			if isClosed(err) {
				return true
			}
			if tr.idle(u.conn, err) { // the tap's records were handed over
				continue
			}
			time.Sleep(time.Millisecond) // an error that persists must not spin the reader
			continue
		}
		var now int64
		if s.rrl != nil {
			now = s.rrl.now()
		}
		var received time.Time
		if tr != nil {
			received = time.Now()
		}
		for i := range n {
			q := b.query(i)
			from := b.peer(i).Addr()
			resp := h.serve(q, from, false)
			if queryHook != nil {
				queryHook(h)
			}
			if resp == nil {
				if h.handOver {
					s.handOverUDP(u, q, from, b.replyTo(i), b.replyFrom(i), h.answer)
				}
				continue
			}
			if s.rrl != nil {
				resp = s.rrl.limit(h, resp, from, now, h.serverCookieValid())
				if len(resp) == 0 {
					continue
				}
			}
			if h.st != nil {
				h.st.sent(resp)
			}
			tr.add(h, q, resp, b.peer(i), false, received)
			b.queue(i, resp)
		}
		if h.st != nil {
			h.st.publish() // before the replies: a client that has one sees it counted
		}
		b.flush()
		tr.batchDone(received)
	}
}

// handOverUDP serves a request the query path handed over on its own
// goroutine, so the reader goes on; when too many are in flight it is
// dropped.
func (s *Server) handOverUDP(u *udpSocket, req []byte, from netip.Addr, to netip.AddrPort, oob, answer []byte) {
	select {
	case s.extSlots <- struct{}{}:
	default:
		s.limited.Warn("handed-over request dropped: too many in flight", "from", from, "limit", maxExtendedUDP)
		return
	}
	req = append([]byte(nil), req...)
	answer = append([]byte(nil), answer...)
	s.wg.Add(1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				s.panicked(panicHandOver, r)
			}
			<-s.extSlots
			s.wg.Done()
		}()
		s.ext.Serve(s.ctx, req, answer, from, false, func(b []byte) error {
			_, _, err := u.conn.WriteMsgUDPAddrPort(b, oob, to)
			return err
		})
	}()
}

// replySources turns the destination address of a query into the control
// message that makes its reply leave from that address. A host has few
// addresses, so the marshalled messages are kept and reused.
type replySources struct {
	cache map[netip.Addr][]byte
}

// maxReplySources bounds the cache (a host with more addresses than this
// still works; the cache just starts again).
const maxReplySources = 64

// control returns the control message for a reply from dst, or nil when
// dst is not known.
func (r *replySources) control(dst netip.Addr) []byte {
	if !dst.IsValid() {
		return nil
	}
	if out, ok := r.cache[dst]; ok {
		return out
	}
	out := replyFromControl(dst)
	if r.cache == nil || len(r.cache) >= maxReplySources {
		r.cache = make(map[netip.Addr][]byte)
	}
	r.cache[dst] = out
	return out
}
