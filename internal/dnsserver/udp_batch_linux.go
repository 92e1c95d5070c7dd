package dnsserver

import (
	"encoding/binary"
	"net"
	"net/netip"
	"strconv"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// udpBatch is one reader's datagrams on Linux: up to udpBatchSize queries
// read with one recvmmsg and their replies written with one sendmmsg. The
// message headers, buffers and peer addresses are allocated once and
// reused, so a query costs no allocation here.
//
// Both calls are made as raw system calls on a non-blocking socket
// (MSG_DONTWAIT): they never block, and waiting for the next datagram is
// left to the runtime's network poller. Go's ordinary system call entry
// wakes the scheduler's monitor thread whenever it sleeps, which at light
// load is every query: a second thread woken per query, on the same core,
// about 10 µs added to the median latency (bench/README.md).
type udpBatch struct {
	rc      syscall.RawConn
	v6      bool
	pktinfo bool

	in    []unix.Mmsghdr
	inIov []unix.Iovec
	bufs  [][]byte
	oobs  [][]byte
	peers []unix.RawSockaddrInet6 // large enough for either family

	out     []unix.Mmsghdr
	outIov  []unix.Iovec
	replies [][]byte
	nout    int

	srcs replySources

	// The functions handed to the raw connection, made once (a closure
	// made per call would be an allocation per call), and what the last
	// system call returned.
	recvFn, sendFn func(fd uintptr) bool
	sending        []unix.Mmsghdr
	count          int
	errno          syscall.Errno
}

// pktinfoSpace is the room for the control message carrying a packet's
// destination address (an in6_pktinfo is the larger of the two).
var pktinfoSpace = unix.CmsgSpace(unix.SizeofInet6Pktinfo)

func newUDPBatch(u *udpSocket) *udpBatch {
	rc, err := u.conn.SyscallConn()
	if err != nil {
		panic(err) // a *net.UDPConn always has one
	}
	b := &udpBatch{
		rc: rc, v6: u.v6, pktinfo: u.pktinfo,
		in: make([]unix.Mmsghdr, udpBatchSize), inIov: make([]unix.Iovec, udpBatchSize),
		bufs: make([][]byte, udpBatchSize), oobs: make([][]byte, udpBatchSize),
		peers: make([]unix.RawSockaddrInet6, udpBatchSize),
		out:   make([]unix.Mmsghdr, udpBatchSize), outIov: make([]unix.Iovec, udpBatchSize),
		replies: make([][]byte, udpBatchSize),
	}
	for i := range b.in {
		b.bufs[i] = make([]byte, maxQuerySize)
		b.inIov[i].Base = &b.bufs[i][0]
		b.inIov[i].SetLen(maxQuerySize)
		h := &b.in[i].Hdr
		h.Name = (*byte)(unsafe.Pointer(&b.peers[i]))
		h.Iov = &b.inIov[i]
		h.SetIovlen(1)
		if u.pktinfo {
			b.oobs[i] = make([]byte, pktinfoSpace)
			h.Control = &b.oobs[i][0]
		}
		b.replies[i] = make([]byte, 0, maxUDPReply)
		b.out[i].Hdr.Iov = &b.outIov[i]
		b.out[i].Hdr.SetIovlen(1)
	}
	b.recvFn, b.sendFn = b.recvmmsg, b.sendmmsg
	return b
}

// read waits for datagrams and reads as many as are queued, up to a
// batch. An error from a closed socket is net.ErrClosed.
func (b *udpBatch) read() (int, error) {
	for i := range b.in {
		h := &b.in[i].Hdr
		h.Namelen = unix.SizeofSockaddrInet6
		if b.pktinfo {
			h.SetControllen(pktinfoSpace)
		}
		h.Flags = 0
	}
	if err := b.rc.Read(b.recvFn); err != nil {
		return 0, err
	}
	if b.errno != 0 {
		return 0, b.errno
	}
	b.nout = 0
	return b.count, nil
}

// recvmmsg reads a batch; false when nothing is queued (the poller then
// waits for the socket to become readable).
func (b *udpBatch) recvmmsg(fd uintptr) bool { return b.mmsg(unix.SYS_RECVMMSG, fd, b.in) }

// sendmmsg writes the replies still to be sent; false when the socket's
// buffer is full (the poller then waits until it can be written).
func (b *udpBatch) sendmmsg(fd uintptr) bool { return b.mmsg(unix.SYS_SENDMMSG, fd, b.sending) }

// mmsg makes one recvmmsg or sendmmsg call (their first four arguments
// are alike) and keeps what it returned; false on EAGAIN.
func (b *udpBatch) mmsg(trap, fd uintptr, msgs []unix.Mmsghdr) bool {
	for {
		r, _, e := unix.RawSyscall6(trap, fd, uintptr(unsafe.Pointer(&msgs[0])), uintptr(len(msgs)), unix.MSG_DONTWAIT, 0, 0)
		switch e {
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false
		}
		b.count, b.errno = int(r), e
		return true
	}
}

// query returns the bytes of datagram i of the last read.
func (b *udpBatch) query(i int) []byte { return b.bufs[i][:b.in[i].Len] }

// peer returns the address and port datagram i came from, without an
// IPv6 zone (so that network prefixes match it).
func (b *udpBatch) peer(i int) netip.AddrPort {
	return sockaddrPort(&b.peers[i])
}

// replyTo returns where a reply to datagram i goes: its peer, with the
// IPv6 zone of a link-local address.
func (b *udpBatch) replyTo(i int) netip.AddrPort {
	return sockaddrReplyTo(&b.peers[i])
}

// replyFrom returns the control message that makes the reply to datagram
// i leave from the address it was sent to, or nil on a socket bound to one
// address.
func (b *udpBatch) replyFrom(i int) []byte {
	if !b.pktinfo {
		return nil
	}
	return b.srcs.control(packetDestination(b.oobs[i][:b.in[i].Hdr.Controllen]))
}

// queue adds resp as the reply to datagram i; flush sends the replies.
func (b *udpBatch) queue(i int, resp []byte) {
	if len(resp) == 0 {
		return
	}
	k := b.nout
	b.replies[k] = append(b.replies[k][:0], resp...)
	b.outIov[k].Base = &b.replies[k][0]
	b.outIov[k].SetLen(len(resp))
	h := &b.out[k].Hdr
	h.Name = b.in[i].Hdr.Name
	h.Namelen = b.in[i].Hdr.Namelen
	if oob := b.replyFrom(i); oob != nil {
		h.Control = &oob[0]
		h.SetControllen(len(oob))
	} else {
		h.Control = nil
		h.SetControllen(0)
	}
	b.nout++
}

// flush sends every queued reply. A reply the kernel refuses (an
// unreachable client, say) is dropped, as a lost datagram would be, and
// the rest are still sent.
func (b *udpBatch) flush() {
	b.sending = b.out[:b.nout]
	b.nout = 0
	for len(b.sending) > 0 {
		if err := b.rc.Write(b.sendFn); err != nil {
			return // the socket is closed
		}
		n := b.count
		if b.errno != 0 || n <= 0 {
			n = 1 // skip the datagram that failed
		}
		b.sending = b.sending[min(n, len(b.sending)):]
	}
}

// sockaddrPort reads an IPv4 or IPv6 socket address as the kernel wrote
// it (the port in network byte order).
func sockaddrPort(sa *unix.RawSockaddrInet6) netip.AddrPort {
	port := binary.BigEndian.Uint16((*[2]byte)(unsafe.Pointer(&sa.Port))[:])
	if sa.Family == unix.AF_INET {
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		return netip.AddrPortFrom(netip.AddrFrom4(sa4.Addr), port)
	}
	return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr).Unmap(), port)
}

// sockaddrReplyTo is sockaddrPort with the scope of a link-local IPv6
// address as its zone: the interface's name, which is what the net
// package looks a zone up by.
func sockaddrReplyTo(sa *unix.RawSockaddrInet6) netip.AddrPort {
	ap := sockaddrPort(sa)
	if sa.Family == unix.AF_INET6 && sa.Scope_id != 0 {
		return netip.AddrPortFrom(ap.Addr().WithZone(interfaceName(sa.Scope_id)), ap.Port())
	}
	return ap
}

// interfaceName returns the name of the interface with index idx, or the
// index as a number when there is no such interface.
func interfaceName(idx uint32) string {
	if ifi, err := net.InterfaceByIndex(int(idx)); err == nil {
		return ifi.Name
	}
	return strconv.FormatUint(uint64(idx), 10)
}

// enablePacketInfo asks the kernel for each datagram's destination
// address (IP_PKTINFO, IPV6_RECVPKTINFO).
func enablePacketInfo(c *net.UDPConn, v6 bool) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	err = rc.Control(func(fd uintptr) {
		if v6 {
			serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_RECVPKTINFO, 1)
		} else {
			serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_PKTINFO, 1)
		}
	})
	if err != nil {
		return err
	}
	return serr
}

// packetDestination finds the local address a datagram reached in its
// control messages; the zero Addr when there is none.
func packetDestination(oob []byte) netip.Addr {
	for len(oob) > 0 {
		h, data, rest, err := unix.ParseOneSocketControlMessage(oob)
		if err != nil {
			return netip.Addr{}
		}
		switch {
		case h.Level == unix.IPPROTO_IP && h.Type == unix.IP_PKTINFO && len(data) >= unix.SizeofInet4Pktinfo:
			var pi unix.Inet4Pktinfo
			copy((*[unix.SizeofInet4Pktinfo]byte)(unsafe.Pointer(&pi))[:], data)
			// The local address the datagram reached: the header's
			// destination for unicast, the interface's own address for a
			// broadcast, which a reply cannot be sent from.
			return netip.AddrFrom4(pi.Spec_dst)
		case h.Level == unix.IPPROTO_IPV6 && h.Type == unix.IPV6_PKTINFO && len(data) >= unix.SizeofInet6Pktinfo:
			var pi unix.Inet6Pktinfo
			copy((*[unix.SizeofInet6Pktinfo]byte)(unsafe.Pointer(&pi))[:], data)
			return netip.AddrFrom16(pi.Addr)
		}
		oob = rest
	}
	return netip.Addr{}
}

// replyFromControl is the control message that sends a datagram from
// src.
func replyFromControl(src netip.Addr) []byte {
	if src.Is4() {
		return unix.PktInfo4(&unix.Inet4Pktinfo{Spec_dst: src.As4()})
	}
	return unix.PktInfo6(&unix.Inet6Pktinfo{Addr: src.As16()})
}
