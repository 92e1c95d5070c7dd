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
	h := newHandler(s.src, s.cfg.UDPSize)
	buf := make([]byte, 65535)
	switch {
	case l.p4 != nil:
		for {
			n, cm, src, err := l.p4.ReadFrom(buf)
			if err != nil {
				if isClosed(err) {
					return
				}
				continue
			}
			if resp := h.serve(buf[:n], false); resp != nil {
				var wcm *ipv4.ControlMessage
				if cm != nil {
					wcm = &ipv4.ControlMessage{Src: cm.Dst}
				}
				l.p4.WriteTo(resp, wcm, src)
			}
		}
	case l.p6 != nil:
		for {
			n, cm, src, err := l.p6.ReadFrom(buf)
			if err != nil {
				if isClosed(err) {
					return
				}
				continue
			}
			if resp := h.serve(buf[:n], false); resp != nil {
				var wcm *ipv6.ControlMessage
				if cm != nil {
					wcm = &ipv6.ControlMessage{Src: cm.Dst}
				}
				l.p6.WriteTo(resp, wcm, src)
			}
		}
	default:
		for {
			n, src, err := l.conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				if isClosed(err) {
					return
				}
				continue
			}
			if resp := h.serve(buf[:n], false); resp != nil {
				l.conn.WriteToUDPAddrPort(resp, src)
			}
		}
	}
}
