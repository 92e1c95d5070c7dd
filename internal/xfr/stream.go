package xfr

import (
	"encoding/binary"
	"fmt"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/model"
)

// maxMessage bounds the records' uncompressed size in one incremental
// transfer message, well inside the 65535 octets TCP allows.
const maxMessage = 16 * 1024

// stream packs parsed records (an IXFR, from the journal's lines) into as
// few messages as fit and writes each as it fills (RFC 5936 section 2.2):
// every message answers the request's ID; the first carries the question.
// A full transfer goes through wireStream instead.
type stream struct {
	req      *dns.Msg
	sg       *signer
	write    func([]byte) error
	m        *dns.Msg
	size     int
	records  int
	messages int
}

func newStream(req *dns.Msg, sg *signer, write func([]byte) error) *stream {
	st := &stream{req: req, sg: sg, write: write}
	st.next()
	return st
}

func (st *stream) next() {
	m := new(dns.Msg)
	m.SetReply(st.req)
	m.Authoritative = true
	m.Compress = true
	if st.messages > 0 {
		m.Question = nil
	}
	addOPT(st.req, m)
	st.m, st.size = m, 0
}

func (st *stream) add(rr dns.RR) error {
	l := dns.Len(rr)
	if st.size+l > maxMessage && len(st.m.Answer) > 0 {
		if err := st.flush(); err != nil {
			return err
		}
	}
	st.m.Answer = append(st.m.Answer, rr)
	st.size += l
	st.records++
	return nil
}

// flush writes the message being filled.
func (st *stream) flush() error {
	if len(st.m.Answer) == 0 {
		return nil
	}
	b, err := st.sg.pack(st.m)
	if err != nil {
		return err
	}
	if err := st.write(b); err != nil {
		return err
	}
	st.messages++
	st.next()
	return nil
}

// writeFull writes an AXFR: the SOA, every other record, the SOA again.
func writeFull(w *wireStream, zt *control.ZoneTransfer) error {
	if err := w.addSet(zt.SOA); err != nil {
		return err
	}
	err := zt.Records.Range(func(owner []byte, t model.Type, ttl uint32, count int, records []byte) error {
		for range count {
			l := int(binary.BigEndian.Uint16(records))
			if err := w.add(owner, uint16(t), ttl, records[2:2+l]); err != nil {
				return err
			}
			records = records[2+l:]
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := w.addSet(zt.SOA); err != nil {
		return err
	}
	return w.flush()
}

// writeIncremental writes an IXFR (RFC 1995 section 4): the current SOA,
// then per change the old SOA, the records removed, the new SOA and the
// records added, and the current SOA again. A secondary that is up to
// date gets the current SOA alone.
func writeIncremental(st *stream, soa dns.RR, zt *control.ZoneTransfer) error {
	if err := st.add(soa); err != nil {
		return err
	}
	if len(zt.Journal) == 0 {
		return nil
	}
	for _, e := range zt.Journal {
		for _, part := range []struct {
			serial uint32
			lines  []string
		}{{e.OldSerial, e.Removed}, {e.NewSerial, e.Added}} {
			rrs, delim, err := parseLines(part.lines)
			if err != nil {
				return fmt.Errorf("journal entry %d: %w", e.Seq, err)
			}
			if delim == nil {
				delim = dns.Copy(soa)
				delim.(*dns.SOA).Serial = part.serial
			}
			if err := st.add(delim); err != nil {
				return err
			}
			for _, rr := range rrs {
				if err := st.add(rr); err != nil {
					return err
				}
			}
		}
	}
	return st.add(soa)
}

// parseLines parses journal lines, setting the SOA apart.
func parseLines(lines []string) (rrs []dns.RR, soa dns.RR, err error) {
	for _, l := range lines {
		rr, err := dns.NewRR(l)
		if err != nil {
			return nil, nil, err
		}
		if rr.Header().Rrtype == dns.TypeSOA && soa == nil {
			soa = rr
			continue
		}
		rrs = append(rrs, rr)
	}
	return rrs, soa, nil
}
