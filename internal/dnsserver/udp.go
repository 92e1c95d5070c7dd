package dnsserver

import (
	"fmt"
	"net"
	"net/netip"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// udpBatch is the most datagrams read (recvmmsg) or written (sendmmsg) by
// one system call.
const udpBatch = 32

// maxQuerySize bounds the datagram a reader accepts: the largest UDP
// payload, so that no query is ever cut short.
const maxQuerySize = 65535

// maxUDPReply is the largest reply sent over UDP (the most a Config's
// UDPSize allows).
const maxUDPReply = 4096

// udpSocket is one UDP socket. A listen address has one per reader, all
// bound to the same address and port with SO_REUSEPORT so the kernel
// spreads clients across them. A socket bound to a wildcard address asks
// the kernel for each packet's destination address so the reply leaves
// from the address the query was sent to, as clients require on hosts with
// more than one address.
type udpSocket struct {
	conn    *net.UDPConn
	batch   batchConn
	pktinfo bool
	v6      bool
}

// batchConn reads and writes datagrams in batches: recvmmsg and sendmmsg
// on Linux, one datagram per call elsewhere. ipv4.Message and
// ipv6.Message are the same type, so both packet conns satisfy it.
type batchConn interface {
	ReadBatch(ms []ipv4.Message, flags int) (int, error)
	WriteBatch(ms []ipv4.Message, flags int) (int, error)
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
	var err error
	if u.v6 {
		p := ipv6.NewPacketConn(c)
		if pktinfo {
			err = p.SetControlMessage(ipv6.FlagDst, true)
		}
		u.batch = p
	} else {
		p := ipv4.NewPacketConn(c)
		if pktinfo {
			err = p.SetControlMessage(ipv4.FlagDst, true)
		}
		u.batch = p
	}
	if err != nil {
		return nil, fmt.Errorf("ask for packet destinations: %w", err)
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
// a batch of queries read with one system call is answered with one.
func (s *Server) serveUDP(u *udpSocket) {
	h := newHandler(s.src, s.steer, s.cfg.UDPSize, s.ext != nil)
	b := newUDPBuffers(u)
	for {
		n, err := u.batch.ReadBatch(b.in, 0)
		if err != nil {
			if isClosed(err) {
				return
			}
			continue
		}
		out := b.out[:0]
		for i := range b.in[:n] {
			m := &b.in[i]
			resp := h.serve(m.Buffers[0][:m.N], udpAddr(m.Addr), false)
			if resp == nil {
				if h.handOver {
					s.handOverUDP(u, m, b.replyFrom(m), h.answer)
				}
				continue
			}
			o := &b.out[len(out)]
			o.Buffers[0] = append(o.Buffers[0][:0], resp...)
			o.Addr = m.Addr
			o.OOB = b.replyFrom(m)
			out = out[:len(out)+1]
		}
		writeAllUDP(u.batch, out)
	}
}

// handOverUDP serves a request the query path handed over on its own
// goroutine, so the reader goes on; when too many are in flight it is
// dropped.
func (s *Server) handOverUDP(u *udpSocket, m *ipv4.Message, oob, answer []byte) {
	select {
	case s.extSlots <- struct{}{}:
	default:
		return
	}
	req := append([]byte(nil), m.Buffers[0][:m.N]...)
	answer = append([]byte(nil), answer...)
	oob = append([]byte(nil), oob...)
	to := m.Addr.(*net.UDPAddr).AddrPort()
	s.wg.Add(1)
	go func() {
		defer func() { <-s.extSlots; s.wg.Done() }()
		s.ext.Serve(s.ctx, req, answer, to.Addr().Unmap(), false, func(b []byte) error {
			_, _, err := u.conn.WriteMsgUDPAddrPort(b, oob, to)
			return err
		})
	}()
}

// writeAllUDP sends every message of out. A message the kernel refuses
// (an unreachable client, say) is dropped, as a lost datagram would be,
// and the rest are still sent.
func writeAllUDP(c batchConn, out []ipv4.Message) {
	for len(out) > 0 {
		n, err := c.WriteBatch(out, 0)
		if err != nil {
			if isClosed(err) {
				return
			}
			n++ // skip the datagram that failed
		}
		out = out[min(n, len(out)):]
	}
}

// udpBuffers is one reader's batch: the datagrams read, and the replies.
type udpBuffers struct {
	in  []ipv4.Message
	out []ipv4.Message
	oob replySources
}

func newUDPBuffers(u *udpSocket) *udpBuffers {
	b := &udpBuffers{
		in:  make([]ipv4.Message, udpBatch),
		out: make([]ipv4.Message, udpBatch),
		oob: replySources{v6: u.v6, enabled: u.pktinfo},
	}
	for i := range b.in {
		b.in[i].Buffers = [][]byte{make([]byte, maxQuerySize)}
		if u.pktinfo {
			if u.v6 {
				b.in[i].OOB = ipv6.NewControlMessage(ipv6.FlagDst)
			} else {
				b.in[i].OOB = ipv4.NewControlMessage(ipv4.FlagDst)
			}
		}
		b.out[i].Buffers = [][]byte{make([]byte, 0, maxUDPReply)}
	}
	return b
}

// replyFrom returns the control message that makes the reply to m leave
// from the address m was sent to, or nil on a socket bound to one address.
func (b *udpBuffers) replyFrom(m *ipv4.Message) []byte {
	if !b.oob.enabled {
		return nil
	}
	return b.oob.lookup(m.OOB[:m.NN])
}

// replySources turns the destination address of a query into the control
// message for its reply. A host has few addresses, so the marshalled
// messages are kept and reused.
type replySources struct {
	enabled bool
	v6      bool
	cache   map[netip.Addr][]byte
}

// maxReplySources bounds the cache (a host with more addresses than this
// still works; the cache just starts again).
const maxReplySources = 64

func (r *replySources) lookup(oob []byte) []byte {
	var dst net.IP
	if r.v6 {
		var cm ipv6.ControlMessage
		if cm.Parse(oob) != nil {
			return nil
		}
		dst = cm.Dst
	} else {
		var cm ipv4.ControlMessage
		if cm.Parse(oob) != nil {
			return nil
		}
		dst = cm.Dst
	}
	a, ok := netip.AddrFromSlice(dst)
	if !ok {
		return nil
	}
	if out, ok := r.cache[a]; ok {
		return out
	}
	var out []byte
	if r.v6 {
		out = (&ipv6.ControlMessage{Src: dst}).Marshal()
	} else {
		out = (&ipv4.ControlMessage{Src: dst}).Marshal()
	}
	if r.cache == nil || len(r.cache) >= maxReplySources {
		r.cache = make(map[netip.Addr][]byte)
	}
	r.cache[a] = out
	return out
}

func udpAddr(a net.Addr) netip.Addr {
	if u, ok := a.(*net.UDPAddr); ok {
		return u.AddrPort().Addr().Unmap()
	}
	return netip.Addr{}
}
