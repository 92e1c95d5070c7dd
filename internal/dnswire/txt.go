package dnswire

import (
	"encoding/binary"

	"github.com/stratusdns/stratus/internal/dnsconst"
)

// MaxTXTString is the longest character-string a TXT record holds (RFC
// 1035 section 3.3).
const MaxTXTString = 255

// TXT writes an authoritative answer of one TXT record that holds txt (at
// most MaxTXTString octets) as one character-string, owned by the question
// name, in the question's class, with TTL 0: the server's answer to CH TXT
// id.server, hostname.bind, version.bind and version.server (RFC 4892).
// limit is as for Answer; an answer that does not fit is truncated.
func (w *Writer) TXT(q *Query, txt []byte, limit int) []byte {
	txt = txt[:min(len(txt), MaxTXTString)]
	w.start(q, dnsconst.RcodeSuccess, true)
	w.buf = append(w.buf, 0xC0, dnsconst.HeaderLen) // the question name
	w.buf = binary.BigEndian.AppendUint16(w.buf, dnsconst.TypeTXT)
	w.buf = binary.BigEndian.AppendUint16(w.buf, q.Qclass)
	w.buf = binary.BigEndian.AppendUint32(w.buf, 0)
	w.buf = binary.BigEndian.AppendUint16(w.buf, uint16(1+len(txt)))
	w.buf = append(w.buf, byte(len(txt)))
	w.buf = append(w.buf, txt...)
	binary.BigEndian.PutUint16(w.buf[6:], 1)
	if q.EDNS {
		w.opt(q, dnsconst.RcodeSuccess)
		binary.BigEndian.PutUint16(w.buf[10:], 1)
	}
	if len(w.buf) > limit {
		return w.truncated(q, dnsconst.RcodeSuccess, true)
	}
	return w.buf
}
