package dnswire

import (
	"encoding/binary"
	"errors"
	"net/netip"

	"github.com/stratusdns/stratus/internal/dnsconst"
)

// ErrDrop means the packet is not a query and must get no reply at all.
var ErrDrop = errors.New("dnswire: not a query")

// Query is what the query path needs from a request. Qname points into the
// packet it was parsed from.
type Query struct {
	ID     uint16
	Opcode uint8
	RD, CD bool

	Qname  []byte // uncompressed wire format, as the client wrote it
	Qtype  uint16
	Qclass uint16

	// HasQuestion reports whether the question was parsed, so an error
	// response can echo it.
	HasQuestion bool

	// questions counts the questions that parsed; wellFormed says every
	// section the header announces parsed.
	questions  int
	wellFormed bool

	// EDNS(0), RFC 6891.
	EDNS        bool
	EDNSVersion uint8
	UDPSize     uint16 // the requester's size, at least dnsconst.MinUDPSize
	DO          bool

	// TSIG says the request carries a TSIG record (RFC 8945), which the
	// query path does not verify: such requests go to the full path.
	TSIG bool

	// EDNS Client Subnet (RFC 7871), when the query carried one.
	ECS       bool
	ECSAddr   netip.Addr // masked to ECSSource bits
	ECSSource uint8
	// ECSScope is the scope prefix length to answer with; set by the
	// caller before writing the response.
	ECSScope uint8

	// DNS Cookies (RFC 7873), when the query carried a COOKIE option.
	Cookie       bool
	ClientCookie [8]byte
	// ServerCookie is the server cookie the client sent back: 8 to 32
	// octets, or none when it sent its client cookie alone. It points into
	// the packet.
	ServerCookie []byte
	// CookieValid says ServerCookie is one this server (or a node sharing
	// its secret) made for this client cookie and this client address
	// within the last hour (RFC 9018): the client has received an earlier
	// response at the address the query comes from. Set by the caller;
	// the query path leaves it false when cookies are off.
	CookieValid bool
	// SendCookie and NewServerCookie are set by the caller before writing
	// the response: a response to a query with a cookie then carries the
	// client cookie and NewServerCookie (RFC 7873 section 5.2).
	SendCookie      bool
	NewServerCookie [16]byte

	// CookieQuery says the request is a QUERY without a question but
	// with a COOKIE option, otherwise well-formed: a client asking for a
	// server cookie (RFC 7873 section 5.4). ParseQuery returns FORMERR for
	// it, which a server doing cookies answers with NOERROR, or BADCOOKIE
	// for an invalid server cookie, instead.
	CookieQuery bool

	// NSID says the query asked for the server's identity (an NSID
	// option, RFC 5001).
	NSID bool
}

// FormatError is a malformed query: reply with Rcode (FORMERR, or BADVERS
// for an unsupported EDNS version) using what was parsed of the query.
type FormatError struct {
	Rcode  int
	Reason string
}

func (e *FormatError) Error() string { return "dnswire: " + e.Reason }

func formErr(reason string) error { return &FormatError{Rcode: dnsconst.RcodeFormErr, Reason: reason} }

// ParseQuery parses a request into q. It returns ErrDrop for packets that
// deserve no reply: shorter than a header, responses, and junk — packets
// whose sections do not parse as the header announces and in which neither
// a question nor an OPT record parses — so the server reflects nothing
// it cannot read. Malformed queries (well-formed messages that are not
// valid queries, or broken ones whose question or OPT record parsed) get a
// *FormatError; q then holds whatever could be parsed (the ID at least).
// Opcodes other than QUERY are parsed the same way, and the caller decides
// how to answer them; for an opcode this server does not implement (see
// Implemented) no question is required, as the answer is NOTIMP whatever
// the question section holds.
func ParseQuery(msg []byte, q *Query) error {
	err := parseQuery(msg, q)
	if err != nil && err != ErrDrop && !q.wellFormed && q.questions == 0 && !q.EDNS {
		return ErrDrop
	}
	return err
}

func parseQuery(msg []byte, q *Query) error {
	*q = Query{}
	if len(msg) < dnsconst.HeaderLen {
		return ErrDrop
	}
	q.ID = binary.BigEndian.Uint16(msg[0:])
	flags := binary.BigEndian.Uint16(msg[2:])
	if flags&dnsconst.FlagQR != 0 {
		return ErrDrop
	}
	q.Opcode = uint8(flags>>dnsconst.OpcodeShift) & dnsconst.OpcodeMask
	q.RD = flags&dnsconst.FlagRD != 0
	q.CD = flags&dnsconst.FlagCD != 0
	qd := binary.BigEndian.Uint16(msg[4:])
	an := binary.BigEndian.Uint16(msg[6:])
	ns := binary.BigEndian.Uint16(msg[8:])
	ar := binary.BigEndian.Uint16(msg[10:])
	// Whatever is wrong with the question, read on to the OPT record if
	// the packet allows, so that even a FORMERR carries EDNS when the
	// query did (RFC 6891 section 7).
	var qerr error
	off := dnsconst.HeaderLen
	switch {
	case !Implemented(q.Opcode):
		// NOTIMP whatever the question section holds: the caller answers
		// it, echoing the one question if there is one.
	case qd == 0:
		qerr = formErr("no question")
	case qd > 1:
		qerr = formErr("more than one question")
	}
	for i := 0; i < int(qd); i++ {
		var end int
		var err error
		if i == 0 && qd == 1 {
			end, err = nameEnd(msg, off)
		} else {
			end, err = compressedNameEnd(msg, off)
		}
		if err != nil {
			return err
		}
		if end+4 > len(msg) {
			return formErr("question truncated")
		}
		q.questions++
		if qd == 1 {
			q.Qname = msg[off:end]
			q.Qtype = binary.BigEndian.Uint16(msg[end:])
			q.Qclass = binary.BigEndian.Uint16(msg[end+2:])
			q.HasQuestion = true
		}
		off = end + 4
	}
	if qerr == nil && q.Opcode == dnsconst.OpcodeQuery && an != 0 {
		qerr = formErr("query with answer records")
	}
	// Skip the answer and authority sections (IXFR queries carry an SOA
	// in the authority section; NOTIFY and UPDATE carry records too),
	// then read the additional section for OPT.
	for i := 0; i < int(an)+int(ns); i++ {
		var err error
		if off, err = skipRR(msg, off); err != nil {
			return err
		}
	}
	for i := 0; i < int(ar); i++ {
		rrStart := off
		nend, err := compressedNameEnd(msg, off)
		if err != nil {
			return err
		}
		if nend+10 > len(msg) {
			return formErr("additional record truncated")
		}
		typ := binary.BigEndian.Uint16(msg[nend:])
		rdlen := int(binary.BigEndian.Uint16(msg[nend+8:]))
		rdStart := nend + 10
		if rdStart+rdlen > len(msg) {
			return formErr("additional record data truncated")
		}
		off = rdStart + rdlen
		if typ == dnsconst.TypeTSIG {
			q.TSIG = true
		}
		if typ != dnsconst.TypeOPT {
			continue
		}
		if q.EDNS {
			return formErr("more than one OPT record")
		}
		if nend != rrStart+1 || msg[rrStart] != 0 {
			return formErr("OPT record owner is not the root")
		}
		q.EDNS = true
		q.UDPSize = max(binary.BigEndian.Uint16(msg[nend+2:]), dnsconst.MinUDPSize)
		ttl := binary.BigEndian.Uint32(msg[nend+4:])
		q.EDNSVersion = uint8(ttl >> 16)
		q.DO = ttl&dnsconst.EDNSFlagDO != 0
		if err := q.readOptions(msg[rdStart:off]); err != nil {
			return err
		}
	}
	q.wellFormed = true
	if qerr != nil {
		q.CookieQuery = qd == 0 && an == 0 && q.Opcode == dnsconst.OpcodeQuery && q.Cookie && q.EDNSVersion == 0
		return qerr
	}
	if q.EDNS && q.EDNSVersion > 0 {
		return &FormatError{Rcode: dnsconst.RcodeBadVers, Reason: "unsupported EDNS version"}
	}
	return nil
}

// nameEnd returns the offset just past the uncompressed name at off.
// Compression pointers are refused: nothing precedes the question for them
// to point at.
func nameEnd(msg []byte, off int) (int, error) {
	start := off
	for {
		if off >= len(msg) {
			return 0, formErr("name truncated")
		}
		l := int(msg[off])
		switch {
		case l == 0:
			if off+1-start > dnsconst.MaxNameLen {
				return 0, formErr("name longer than 255 octets")
			}
			return off + 1, nil
		case l&0xC0 != 0:
			return 0, formErr("compressed or extended label in question")
		}
		off += l + 1
	}
}

// compressedNameEnd returns the offset just past a possibly compressed name
// at off, without following pointers.
func compressedNameEnd(msg []byte, off int) (int, error) {
	for n := 0; ; n++ {
		if off >= len(msg) || n > 127 {
			return 0, formErr("name truncated")
		}
		l := int(msg[off])
		switch {
		case l == 0:
			return off + 1, nil
		case l&0xC0 == 0xC0:
			if off+2 > len(msg) {
				return 0, formErr("name truncated")
			}
			return off + 2, nil
		case l&0xC0 != 0:
			return 0, formErr("extended label type")
		}
		off += l + 1
	}
}

// skipRR returns the offset just past the resource record at off.
func skipRR(msg []byte, off int) (int, error) {
	nend, err := compressedNameEnd(msg, off)
	if err != nil {
		return 0, err
	}
	if nend+10 > len(msg) {
		return 0, formErr("record truncated")
	}
	end := nend + 10 + int(binary.BigEndian.Uint16(msg[nend+8:]))
	if end > len(msg) {
		return 0, formErr("record data truncated")
	}
	return end, nil
}

// readOptions validates the option list of an OPT record (RFC 6891
// section 6.1.2) and reads the options the server uses.
func (q *Query) readOptions(b []byte) error {
	for len(b) > 0 {
		if len(b) < 4 {
			return formErr("EDNS option truncated")
		}
		code := binary.BigEndian.Uint16(b)
		l := int(binary.BigEndian.Uint16(b[2:]))
		if 4+l > len(b) {
			return formErr("EDNS option data truncated")
		}
		switch code {
		case dnsconst.OptionECS:
			if q.ECS {
				return formErr("more than one client subnet option")
			}
			if err := q.readECS(b[4 : 4+l]); err != nil {
				return err
			}
		case dnsconst.OptionCookie:
			if q.Cookie {
				q.Cookie = false // which one would the response echo?
				return formErr("more than one cookie option")
			}
			if err := q.readCookie(b[4 : 4+l]); err != nil {
				return err
			}
		case dnsconst.OptionNSID:
			// The requester sends it empty (RFC 5001 section 2.3); what
			// it holds otherwise is of no use to the answer.
			q.NSID = true
		}
		b = b[4+l:]
	}
	return nil
}

// Lengths of a COOKIE option (RFC 7873 section 4): a client cookie of 8
// octets, alone or followed by a server cookie of 8 to 32.
const (
	clientCookieLen    = 8
	minServerCookieLen = 8
	maxServerCookieLen = 32
)

// readCookie reads a COOKIE option. Any other length than a client cookie
// alone or with a server cookie is a FORMERR (RFC 7873 section 5.2.2).
func (q *Query) readCookie(b []byte) error {
	if n := len(b); n != clientCookieLen && (n < clientCookieLen+minServerCookieLen || n > clientCookieLen+maxServerCookieLen) {
		return formErr("cookie option is not a client cookie of 8 octets, alone or with a server cookie of 8 to 32")
	}
	q.Cookie = true
	copy(q.ClientCookie[:], b)
	q.ServerCookie = b[clientCookieLen:]
	return nil
}

// readECS reads a client subnet option (RFC 7871 section 6). A malformed
// one is a FORMERR (section 7.1.1).
func (q *Query) readECS(b []byte) error {
	if len(b) < 4 {
		return formErr("client subnet option too short")
	}
	family, source := binary.BigEndian.Uint16(b), b[2]
	addr := b[4:]
	var full [16]byte
	var bits int
	switch family {
	case dnsconst.ECSFamilyIPv4:
		bits = 32
	case dnsconst.ECSFamilyIPv6:
		bits = 128
	default:
		return formErr("client subnet family is not IPv4 or IPv6")
	}
	if int(source) > bits {
		return formErr("client subnet source prefix longer than the address")
	}
	if len(addr) != (int(source)+7)/8 {
		return formErr("client subnet address length does not match its source prefix")
	}
	copy(full[:], addr)
	if source%8 != 0 && len(addr) > 0 && addr[len(addr)-1]&(0xFF>>(source%8)) != 0 {
		return formErr("client subnet address has bits set beyond its source prefix")
	}
	if family == dnsconst.ECSFamilyIPv4 {
		q.ECSAddr = netip.AddrFrom4([4]byte(full[:4]))
	} else {
		q.ECSAddr = netip.AddrFrom16(full)
	}
	q.ECS, q.ECSSource = true, source
	return nil
}

// Implemented reports whether the server implements opcode: QUERY, NOTIFY
// (RFC 1996) and UPDATE (RFC 2136). Every other opcode is answered NOTIMP.
func Implemented(opcode uint8) bool {
	return opcode == dnsconst.OpcodeQuery || opcode == dnsconst.OpcodeNotify || opcode == dnsconst.OpcodeUpdate
}
