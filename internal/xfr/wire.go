package xfr

import (
	"encoding/binary"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/dnsconst"
	"github.com/stratusdns/stratus/internal/model"
)

// wireStream writes a full transfer straight from the stored wire-format
// records: no per-record objects, owner names compressed against the
// names already in the message, RDATA copied as stored (uncompressed, as
// RFC 3597 asks for types a receiver may not know). Each message is
// filled to about wireMessage octets, then signed and written.
type wireStream struct {
	sg    *signer
	write func([]byte) error

	id       uint16
	rd       bool
	edns     bool
	question []byte // the question section, written in the first message

	buf      []byte
	names    map[string]int // a name (lowercase wire) already written → its offset
	ancount  int
	records  int
	messages int
}

// wireMessage is the size a transfer message is filled to.
const wireMessage = 16 * 1024

func newWireStream(req *dns.Msg, zone model.Name, sg *signer, write func([]byte) error) *wireStream {
	q := req.Question[0]
	question := append(zone.Wire(), 0, 0, 0, 0)
	binary.BigEndian.PutUint16(question[len(question)-4:], q.Qtype)
	binary.BigEndian.PutUint16(question[len(question)-2:], q.Qclass)
	w := &wireStream{sg: sg, write: write, id: req.Id, rd: req.RecursionDesired, edns: req.IsEdns0() != nil, question: question}
	w.begin()
	return w
}

// begin starts the next message.
func (w *wireStream) begin() {
	w.buf = append(w.buf[:0], make([]byte, dnsconst.HeaderLen)...)
	binary.BigEndian.PutUint16(w.buf[0:], w.id)
	flags := uint16(dnsconst.FlagQR | dnsconst.FlagAA)
	if w.rd {
		flags |= dnsconst.FlagRD
	}
	binary.BigEndian.PutUint16(w.buf[2:], flags)
	clear(w.names)
	if w.names == nil {
		w.names = make(map[string]int, 1024)
	}
	if w.messages == 0 {
		binary.BigEndian.PutUint16(w.buf[4:], 1)
		w.buf = append(w.buf, w.question...)
		qname := w.question[:len(w.question)-4]
		w.remember(qname[:len(qname)-1], 12, qname)
	}
	w.ancount = 0
}

// add appends one record, owner in lowercase wire format.
func (w *wireStream) add(owner []byte, typ uint16, ttl uint32, rdata []byte) error {
	if len(w.buf)+len(owner)+10+len(rdata) > wireMessage && w.ancount > 0 {
		if err := w.flush(); err != nil {
			return err
		}
	}
	w.name(owner)
	var fixed [10]byte
	binary.BigEndian.PutUint16(fixed[0:], typ)
	binary.BigEndian.PutUint16(fixed[2:], dns.ClassINET)
	binary.BigEndian.PutUint32(fixed[4:], ttl)
	binary.BigEndian.PutUint16(fixed[8:], uint16(len(rdata)))
	w.buf = append(w.buf, fixed[:]...)
	w.buf = append(w.buf, rdata...)
	w.ancount++
	w.records++
	return nil
}

// name writes an owner name, pointing at the longest suffix of it already
// in the message (RFC 1035 section 4.1.4).
func (w *wireStream) name(n []byte) {
	for i := 0; i < len(n) && n[i] != 0; i += int(n[i]) + 1 {
		if off, ok := w.names[string(n[i:])]; ok {
			w.buf = append(w.buf, n[:i]...)
			w.buf = append(w.buf, byte(0xC0|off>>8), byte(off))
			w.remember(n[:i], len(w.buf)-2-i, n)
			return
		}
	}
	start := len(w.buf)
	w.buf = append(w.buf, n...)
	w.remember(n[:len(n)-1], start, n)
}

// remember records the names that begin at each label of prefix, written
// at offset start, as suffixes of the whole name n.
func (w *wireStream) remember(prefix []byte, start int, n []byte) {
	for i := 0; i < len(prefix); i += int(prefix[i]) + 1 {
		if start+i >= 0x3FFF {
			return
		}
		w.names[string(n[i:])] = start + i
	}
}

// flush finishes, signs and writes the message being filled. write must
// not keep the message: its buffer is reused.
func (w *wireStream) flush() error {
	if w.ancount == 0 {
		return nil
	}
	binary.BigEndian.PutUint16(w.buf[6:], uint16(w.ancount))
	if w.edns {
		// OPT: root owner, our payload size, no options (RFC 6891).
		w.buf = append(w.buf, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
		binary.BigEndian.PutUint16(w.buf[len(w.buf)-10:], dnsconst.TypeOPT)
		binary.BigEndian.PutUint16(w.buf[len(w.buf)-8:], dnsconst.DefaultUDPSize)
		binary.BigEndian.PutUint16(w.buf[10:], 1)
	}
	out, err := w.sg.signWire(w.buf)
	if err != nil {
		return err
	}
	if err := w.write(out); err != nil {
		return err
	}
	w.buf = out[:0]
	w.messages++
	w.begin()
	return nil
}

// addSet appends every record of a stored RRset.
func (w *wireStream) addSet(s *model.RRset) error {
	owner := s.Name.Wire()
	for _, rd := range s.Rdata {
		if err := w.add(owner, uint16(s.Type), s.TTL, rd); err != nil {
			return err
		}
	}
	return nil
}
