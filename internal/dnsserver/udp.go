package dnsserver

import (
	"net"
	"net/netip"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// udpListener is one UDP socket. A socket bound to a wildcard address asks
// the kernel for each packet's destination address so the reply leaves from
// the address the query was sent to, as clients require on hosts with more
// than one address.
type udpListener struct {
	conn *net.UDPConn
	p4   *ipv4.PacketConn
	p6   *ipv6.PacketConn
}

func listenUDP(ap netip.AddrPort) (*udpListener, error) {
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(ap))
	if err != nil {
		return nil, err
	}
	l := &udpListener{conn: c}
	if ap.Addr().IsUnspecified() {
		if ap.Addr().Is4() {
			l.p4 = ipv4.NewPacketConn(c)
			if err := l.p4.SetControlMessage(ipv4.FlagDst, true); err != nil {
				c.Close()
				return nil, err
			}
		} else {
			l.p6 = ipv6.NewPacketConn(c)
			if err := l.p6.SetControlMessage(ipv6.FlagDst, true); err != nil {
				c.Close()
				return nil, err
			}
		}
	}
	return l, nil
}

// serveUDP reads and answers queries until the socket is closed.
func (s *Server) serveUDP(l *udpListener) {
	h := newHandler(s.src, s.steer, s.cfg.UDPSize)
	buf := make([]byte, 65535)
	r := l.reader()
	for {
		n, err := r.read(buf)
		if err != nil {
			if isClosed(err) {
				return
			}
			continue
		}
		if resp := h.serve(buf[:n], r.from(), false); resp != nil {
			r.reply(resp)
		}
	}
}

// packetReader reads datagrams and answers the last one read. Each UDP
// reader goroutine has its own.
type packetReader interface {
	read(buf []byte) (int, error)
	from() netip.Addr
	reply(resp []byte)
}

func (l *udpListener) reader() packetReader {
	switch {
	case l.p4 != nil:
		return &v4Reader{p: l.p4}
	case l.p6 != nil:
		return &v6Reader{p: l.p6}
	}
	return &plainReader{c: l.conn}
}

// plainReader serves a socket bound to one address.
type plainReader struct {
	c   *net.UDPConn
	src netip.AddrPort
}

func (r *plainReader) read(buf []byte) (n int, err error) {
	n, r.src, err = r.c.ReadFromUDPAddrPort(buf)
	return n, err
}

func (r *plainReader) reply(resp []byte) { r.c.WriteToUDPAddrPort(resp, r.src) }

func (r *plainReader) from() netip.Addr { return r.src.Addr().Unmap() }

// v4Reader serves a wildcard IPv4 socket, replying from the address each
// query was sent to.
type v4Reader struct {
	p   *ipv4.PacketConn
	src net.Addr
	cm  *ipv4.ControlMessage
	out ipv4.ControlMessage
}

func (r *v4Reader) read(buf []byte) (n int, err error) {
	n, r.cm, r.src, err = r.p.ReadFrom(buf)
	return n, err
}

func (r *v4Reader) from() netip.Addr { return udpAddr(r.src) }

func (r *v4Reader) reply(resp []byte) {
	if r.cm == nil {
		r.p.WriteTo(resp, nil, r.src)
		return
	}
	r.out = ipv4.ControlMessage{Src: r.cm.Dst}
	r.p.WriteTo(resp, &r.out, r.src)
}

// v6Reader is v4Reader for IPv6.
type v6Reader struct {
	p   *ipv6.PacketConn
	src net.Addr
	cm  *ipv6.ControlMessage
	out ipv6.ControlMessage
}

func (r *v6Reader) read(buf []byte) (n int, err error) {
	n, r.cm, r.src, err = r.p.ReadFrom(buf)
	return n, err
}

func (r *v6Reader) from() netip.Addr { return udpAddr(r.src) }

func (r *v6Reader) reply(resp []byte) {
	if r.cm == nil {
		r.p.WriteTo(resp, nil, r.src)
		return
	}
	r.out = ipv6.ControlMessage{Src: r.cm.Dst}
	r.p.WriteTo(resp, &r.out, r.src)
}

func udpAddr(a net.Addr) netip.Addr {
	if u, ok := a.(*net.UDPAddr); ok {
		return u.AddrPort().Addr().Unmap()
	}
	return netip.Addr{}
}
