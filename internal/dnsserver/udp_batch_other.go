//go:build !linux

package dnsserver

import (
	"net"
	"net/netip"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// udpBatch is one reader's datagrams where there is no recvmmsg: one
// query read and answered at a time.
type udpBatch struct {
	u       *udpSocket
	buf     []byte
	oob     []byte
	n, oobn int
	from    netip.AddrPort
	reply   []byte
	pending bool
	srcs    replySources
}

func newUDPBatch(u *udpSocket) *udpBatch {
	b := &udpBatch{u: u, buf: make([]byte, maxQuerySize), reply: make([]byte, 0, maxUDPReply)}
	if u.pktinfo {
		if u.v6 {
			b.oob = ipv6.NewControlMessage(ipv6.FlagDst)
		} else {
			b.oob = ipv4.NewControlMessage(ipv4.FlagDst)
		}
	}
	return b
}

func (b *udpBatch) read() (int, error) {
	n, oobn, _, from, err := b.u.conn.ReadMsgUDPAddrPort(b.buf, b.oob)
	if err != nil {
		return 0, err
	}
	b.n, b.oobn, b.from, b.pending = n, oobn, netip.AddrPortFrom(from.Addr().Unmap(), from.Port()), false
	return 1, nil
}

func (b *udpBatch) query(int) []byte { return b.buf[:b.n] }

func (b *udpBatch) peer(int) netip.AddrPort {
	return netip.AddrPortFrom(b.from.Addr().WithZone(""), b.from.Port())
}

func (b *udpBatch) replyTo(int) netip.AddrPort { return b.from }

func (b *udpBatch) replyFrom(int) []byte {
	if !b.u.pktinfo {
		return nil
	}
	var dst net.IP
	if b.u.v6 {
		var cm ipv6.ControlMessage
		if cm.Parse(b.oob[:b.oobn]) != nil {
			return nil
		}
		dst = cm.Dst
	} else {
		var cm ipv4.ControlMessage
		if cm.Parse(b.oob[:b.oobn]) != nil {
			return nil
		}
		dst = cm.Dst
	}
	a, _ := netip.AddrFromSlice(dst)
	return b.srcs.control(a)
}

func (b *udpBatch) queue(_ int, resp []byte) {
	if len(resp) == 0 {
		return
	}
	b.reply = append(b.reply[:0], resp...)
	b.pending = true
}

// flush sends the reply; one the kernel refuses is dropped, as a lost
// datagram would be.
func (b *udpBatch) flush() {
	if b.pending {
		b.u.conn.WriteMsgUDPAddrPort(b.reply, b.replyFrom(0), b.from)
		b.pending = false
	}
}

// enablePacketInfo asks for each datagram's destination address.
func enablePacketInfo(c *net.UDPConn, v6 bool) error {
	if v6 {
		return ipv6.NewPacketConn(c).SetControlMessage(ipv6.FlagDst, true)
	}
	return ipv4.NewPacketConn(c).SetControlMessage(ipv4.FlagDst, true)
}

// replyFromControl is the control message that sends a datagram from
// src.
func replyFromControl(src netip.Addr) []byte {
	if src.Is4() {
		return (&ipv4.ControlMessage{Src: src.AsSlice()}).Marshal()
	}
	return (&ipv6.ControlMessage{Src: src.AsSlice()}).Marshal()
}
