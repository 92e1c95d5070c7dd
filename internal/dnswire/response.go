package dnswire

import (
	"encoding/binary"

	"github.com/stratusdns/stratus/internal/dnsconst"
	"github.com/stratusdns/stratus/internal/zone"
)

// Writer writes responses into a buffer it reuses. One Writer serves one
// goroutine; the slice a method returns is valid until the next call.
type Writer struct {
	// UDPSize is the payload size this server advertises in its OPT
	// record and the most it sends over UDP (dnsconst.DefaultUDPSize when
	// zero).
	UDPSize int
	// NSID is the server's identity, sent in the OPT record to a query
	// that asks for it (RFC 5001); nothing is sent when it is empty. At
	// most 65,000 octets.
	NSID []byte

	buf  []byte
	comp compressor
	// ext is the upper eight bits of the last response's rcode, as its
	// OPT record carries them (0 without one).
	ext uint8
}

// ExtendedRcode returns the upper eight bits of the rcode of the last
// response written, which its OPT record carries (RFC 6891 section
// 6.1.3): 1 for BADVERS and BADCOOKIE, 0 for the rcodes the header holds
// whole.
func (w *Writer) ExtendedRcode() uint8 { return w.ext }

func (w *Writer) udpSize() int {
	if w.UDPSize <= 0 {
		return dnsconst.DefaultUDPSize
	}
	return w.UDPSize
}

// UDPLimit returns the largest UDP response for q: the smaller of the
// requester's EDNS payload size (512 without EDNS) and ours.
func (w *Writer) UDPLimit(q *Query) int {
	if !q.EDNS {
		return dnsconst.MinUDPSize
	}
	return min(int(q.UDPSize), w.udpSize())
}

// Answer writes the response to q from a. limit is the largest message
// allowed (UDPLimit for UDP, dnsconst.MaxMessageSize for TCP); a response
// that does not fit is replaced by a truncated one (TC set, no records but
// OPT) and truncated is true.
func (w *Writer) Answer(q *Query, a *zone.Answer, limit int) (msg []byte, truncated bool) {
	if w.write(q, a, limit, false) {
		return w.buf, false
	}
	// RFC 9471: glue for name servers outside the delegated zone may be
	// left out; glue inside it (in-domain) may not, so without it the
	// response is truncated.
	if hasOptional(a.Additional) && w.write(q, a, limit, true) {
		return w.buf, false
	}
	return w.truncated(q, a.Rcode, a.Authoritative), true
}

// write writes the whole response and reports whether it fits in limit,
// leaving out optional additional records when lean.
func (w *Writer) write(q *Query, a *zone.Answer, limit int, lean bool) bool {
	w.start(q, a.Rcode, a.Authoritative)
	an := w.section(a.Answer, false, 0)
	ns := w.section(a.Authority, false, 0)
	room := limit
	if q.EDNS {
		room -= w.optLen(q, a.Rcode)
	}
	ar := w.section(a.Additional, lean, room)
	if q.EDNS {
		w.opt(q, a.Rcode)
		ar++
	}
	if len(w.buf) > limit || an > 0xFFFF || ns > 0xFFFF || ar > 0xFFFF {
		return false
	}
	binary.BigEndian.PutUint16(w.buf[6:], uint16(an))
	binary.BigEndian.PutUint16(w.buf[8:], uint16(ns))
	binary.BigEndian.PutUint16(w.buf[10:], uint16(ar))
	return true
}

// hasOptional reports whether refs hold records that may be left out.
func hasOptional(refs []zone.RRRef) bool {
	for i := range refs {
		if refs[i].Optional {
			return true
		}
	}
	return false
}

// Error writes an answerless response with rcode (which may be an
// extended one, such as BADVERS). The question is echoed when it was
// parsed, and an OPT record is added when the query had one.
func (w *Writer) Error(q *Query, rcode int) []byte {
	w.start(q, rcode, false)
	if q.EDNS {
		w.opt(q, rcode)
		binary.BigEndian.PutUint16(w.buf[10:], 1)
	}
	return w.buf
}

func (w *Writer) truncated(q *Query, rcode int, aa bool) []byte {
	w.start(q, rcode, aa)
	w.buf[2] |= dnsconst.FlagTC >> 8
	if q.EDNS {
		w.opt(q, rcode)
		binary.BigEndian.PutUint16(w.buf[10:], 1)
	}
	return w.buf
}

// start writes the header and the question, and resets compression.
func (w *Writer) start(q *Query, rcode int, aa bool) {
	if cap(w.buf) < dnsconst.MaxMessageSize {
		w.buf = make([]byte, 0, dnsconst.MaxMessageSize+512)
	}
	w.comp.reset()
	w.ext = 0
	flags := uint16(dnsconst.FlagQR) | uint16(q.Opcode&dnsconst.OpcodeMask)<<dnsconst.OpcodeShift | uint16(rcode&dnsconst.RcodeMask)
	if aa {
		flags |= dnsconst.FlagAA
	}
	if q.RD {
		flags |= dnsconst.FlagRD
	}
	if q.CD {
		flags |= dnsconst.FlagCD
	}
	var qd uint16
	if q.HasQuestion {
		qd = 1
	}
	w.buf = append(w.buf[:0],
		byte(q.ID>>8), byte(q.ID), byte(flags>>8), byte(flags),
		byte(qd>>8), byte(qd), 0, 0, 0, 0, 0, 0)
	if q.HasQuestion {
		w.registerLabels(q.Qname, len(q.Qname)-1)
		w.buf = append(w.buf, q.Qname...)
		w.buf = binary.BigEndian.AppendUint16(w.buf, q.Qtype)
		w.buf = binary.BigEndian.AppendUint16(w.buf, q.Qclass)
	}
}

// opt appends our OPT record (RFC 6891 section 6.1.3): our payload size,
// the upper bits of an extended rcode, version 0 and the DO bit echoed
// (RFC 3225 section 3); to a query with a client subnet option, the option
// with our scope (RFC 7871 section 7.2); to a query with a cookie, the
// client cookie and a server cookie (RFC 7873 section 5.2); and to a query
// with an NSID option, our identity (RFC 5001).
func (w *Writer) opt(q *Query, rcode int) {
	ttl := uint32(rcode>>4) << 24
	w.ext = uint8(rcode >> 4)
	if q.DO {
		ttl |= dnsconst.EDNSFlagDO
	}
	w.buf = append(w.buf, 0)
	w.buf = binary.BigEndian.AppendUint16(w.buf, dnsconst.TypeOPT)
	w.buf = binary.BigEndian.AppendUint16(w.buf, uint16(w.udpSize()))
	w.buf = binary.BigEndian.AppendUint32(w.buf, ttl)
	lenAt := len(w.buf)
	w.buf = append(w.buf, 0, 0)
	if echoesECS(q, rcode) {
		w.ecs(q)
	}
	if sendsCookie(q) {
		w.buf = binary.BigEndian.AppendUint16(w.buf, dnsconst.OptionCookie)
		w.buf = binary.BigEndian.AppendUint16(w.buf, uint16(len(q.ClientCookie)+len(q.NewServerCookie)))
		w.buf = append(w.buf, q.ClientCookie[:]...)
		w.buf = append(w.buf, q.NewServerCookie[:]...)
	}
	if w.sendsNSID(q) {
		w.buf = binary.BigEndian.AppendUint16(w.buf, dnsconst.OptionNSID)
		w.buf = binary.BigEndian.AppendUint16(w.buf, uint16(len(w.NSID)))
		w.buf = append(w.buf, w.NSID...)
	}
	binary.BigEndian.PutUint16(w.buf[lenAt:], uint16(len(w.buf)-lenAt-2))
}

// ecs appends the client subnet option of the response.
func (w *Writer) ecs(q *Query) {
	alen := ecsAddrLen(q)
	w.buf = binary.BigEndian.AppendUint16(w.buf, dnsconst.OptionECS)
	w.buf = binary.BigEndian.AppendUint16(w.buf, uint16(4+alen))
	family := uint16(dnsconst.ECSFamilyIPv6)
	if q.ECSAddr.Is4() {
		family = dnsconst.ECSFamilyIPv4
	}
	w.buf = binary.BigEndian.AppendUint16(w.buf, family)
	// The scope may be longer than the source (RFC 7871 section 7.2.1):
	// the subnet sent was not specific enough for one answer.
	w.buf = append(w.buf, q.ECSSource, q.ECSScope)
	a := q.ECSAddr.As16()
	if family == dnsconst.ECSFamilyIPv4 {
		a4 := q.ECSAddr.As4()
		w.buf = append(w.buf, a4[:alen]...)
	} else {
		w.buf = append(w.buf, a[:alen]...)
	}
}

// optLen returns the length of the OPT record opt writes.
func (w *Writer) optLen(q *Query, rcode int) int {
	n := 11
	if echoesECS(q, rcode) {
		n += 8 + ecsAddrLen(q)
	}
	if sendsCookie(q) {
		n += 4 + len(q.ClientCookie) + len(q.NewServerCookie)
	}
	if w.sendsNSID(q) {
		n += 4 + len(w.NSID)
	}
	return n
}

// echoesECS reports whether the OPT record carries the client subnet
// option: to a query that sent one, in a NOERROR or NXDOMAIN answer.
func echoesECS(q *Query, rcode int) bool {
	return q.ECS && (rcode == dnsconst.RcodeSuccess || rcode == dnsconst.RcodeNXDomain)
}

// sendsCookie reports whether the OPT record carries a COOKIE option: to a
// query that sent one, once the caller has made the server cookie.
func sendsCookie(q *Query) bool { return q.Cookie && q.SendCookie }

// sendsNSID reports whether the OPT record carries our identity.
func (w *Writer) sendsNSID(q *Query) bool { return q.NSID && len(w.NSID) > 0 }

// ecsAddrLen is the length of the option's address: the source prefix in
// whole octets.
func ecsAddrLen(q *Query) int { return (int(q.ECSSource) + 7) / 8 }

// section appends every record of refs (but the optional ones when lean)
// and returns how many it wrote. A set marked Extra is written only if the
// message stays within room octets; otherwise it is taken out again.
func (w *Writer) section(refs []zone.RRRef, lean bool, room int) int {
	n := 0
	for i := range refs {
		r := &refs[i]
		if lean && r.Optional {
			continue
		}
		mark, marked, wrote := len(w.buf), w.comp.n, 0
		for _, rd := range r.Set.Rdata {
			if r.Owner == nil {
				w.buf = append(w.buf, 0xC0, dnsconst.HeaderLen) // the question name
			} else {
				w.name(r.Owner)
			}
			w.buf = binary.BigEndian.AppendUint16(w.buf, r.Set.Type)
			w.buf = binary.BigEndian.AppendUint16(w.buf, dnsconst.ClassINET)
			w.buf = binary.BigEndian.AppendUint32(w.buf, r.TTL)
			lenAt := len(w.buf)
			w.buf = append(w.buf, 0, 0)
			w.rdata(r.Set.Type, rd)
			binary.BigEndian.PutUint16(w.buf[lenAt:], uint16(len(w.buf)-lenAt-2))
			wrote++
		}
		if r.Extra && len(w.buf) > room {
			w.buf = w.buf[:mark]
			w.comp.truncate(marked)
			continue
		}
		n += wrote
	}
	return n
}

// rdata appends one record's data, compressing the names inside the types
// RFC 3597 section 4 allows (those of RFC 1035 that this server serves).
func (w *Writer) rdata(t uint16, rd []byte) {
	switch t {
	case dnsconst.TypeNS, dnsconst.TypeCNAME, dnsconst.TypePTR:
		if zone.WireNameLen(rd) == len(rd) {
			w.name(rd)
			return
		}
	case dnsconst.TypeMX:
		if len(rd) > 2 && zone.WireNameLen(rd[2:]) == len(rd)-2 {
			w.buf = append(w.buf, rd[:2]...)
			w.name(rd[2:])
			return
		}
	case dnsconst.TypeSOA:
		n1 := zone.WireNameLen(rd)
		if n1 > 0 {
			n2 := zone.WireNameLen(rd[n1:])
			if n2 > 0 && len(rd)-n1-n2 == 20 {
				w.name(rd[:n1])
				w.name(rd[n1 : n1+n2])
				w.buf = append(w.buf, rd[n1+n2:]...)
				return
			}
		}
	}
	w.buf = append(w.buf, rd...)
}

// name appends an uncompressed wire name, replacing its longest suffix
// already in the message with a pointer.
func (w *Writer) name(name []byte) {
	for i := 0; i < len(name) && name[i] != 0; i += int(name[i]) + 1 {
		if ptr, ok := w.comp.find(name[i:]); ok {
			w.registerLabels(name, i)
			w.buf = append(w.buf, name[:i]...)
			w.buf = append(w.buf, 0xC0|byte(ptr>>8), byte(ptr))
			return
		}
	}
	w.registerLabels(name, len(name)-1)
	w.buf = append(w.buf, name...)
}

// registerLabels records, for each label of name before offset upto, the
// position it is about to be written at.
func (w *Writer) registerLabels(name []byte, upto int) {
	base := len(w.buf)
	for j := 0; j < upto && name[j] != 0; j += int(name[j]) + 1 {
		w.comp.add(base+j, name[j:])
	}
}
