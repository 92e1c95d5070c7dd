package xfr

import (
	"net/netip"
	"sync"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/dnsconst"
	"github.com/stratusdns/stratus/internal/dnswire"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/zone"
)

// Refusing early. A NOTIFY or an UPDATE without a signature may come from
// anyone, over UDP from any address they care to write in the packet. The
// ones that can only be refused are refused before the request is parsed
// with miekg/dns, from what the query path's parser read (opcode, zone,
// whether a TSIG record is there), with a reply written without
// allocating, and their log lines are rate-limited (lograte). A request
// that might be heeded, or that is signed, takes the full path.

// NotifyChecker is what a Notified may also do: tell, from what it holds
// in memory and without starting anything, whether it would heed an
// unsigned NOTIFY for z from from. sure is false when it cannot tell
// without the full path (settings not read yet, a zone just created).
// *secondary.Manager is one.
type NotifyChecker interface {
	CheckNotify(z model.Name, from netip.Addr) (known, allowed, sure bool)
}

// Served gives the zones this server serves, for refusing an UPDATE to
// a zone that is none of them; *atomic.Pointer[zone.Snapshot] is one.
type Served interface {
	Load() *zone.Snapshot
}

// SetServed lets the handler refuse, before parsing them, unsigned
// updates to zones not in the snapshots z gives.
func (s *Handler) SetServed(z Served) { s.served = z }

// writers are the reply writers of early refusals.
var writers = sync.Pool{New: func() any { return new(dnswire.Writer) }}

// refuseEarly answers req and returns true when it is an unsigned NOTIFY
// or UPDATE that can only be refused: a NOTIFY for a zone that is no
// secondary zone here (NOTAUTH) or from a sender the zone does not allow
// (REFUSED), an UPDATE to a zone not served here (NOTAUTH).
func (s *Handler) refuseEarly(req []byte, from netip.Addr, write func([]byte) error) bool {
	var q dnswire.Query
	if dnswire.ParseQuery(req, &q) != nil || q.TSIG || !q.HasQuestion ||
		q.Qtype != dnsconst.TypeSOA || q.Qclass != dnsconst.ClassINET {
		return false
	}
	var rcode int
	switch q.Opcode {
	case dnsconst.OpcodeNotify:
		ck, ok := s.notified.(NotifyChecker)
		if !ok {
			return false
		}
		z, err := model.NameFromWire(q.Qname)
		if err != nil {
			return false
		}
		known, allowed, sure := ck.CheckNotify(z, from)
		switch {
		case !sure || known && allowed:
			return false
		case !known:
			rcode = dns.RcodeNotAuth
		default:
			rcode = dns.RcodeRefused
		}
		s.limited.Info("notify received", "zone", z, "from", from, "key", "", "rcode", dns.RcodeToString[rcode])
	case dnsconst.OpcodeUpdate:
		if s.served == nil {
			return false
		}
		var lower [dnsconst.MaxNameLen]byte
		name := lower[:copy(lower[:], q.Qname)]
		for i, c := range name {
			if 'A' <= c && c <= 'Z' {
				name[i] = c + 'a' - 'A'
			}
		}
		if snap := s.served.Load(); snap == nil || snap.Zone(name) != nil {
			return false
		}
		rcode = dns.RcodeNotAuth
		s.metrics.updateNotAuth.Inc()
		s.limited.Info("update refused", "zone", nameText(q.Qname), "rcode", dns.RcodeToString[rcode], "from", from, "key", "", "err", "no such zone")
	default:
		return false
	}
	w := writers.Get().(*dnswire.Writer)
	write(w.Error(&q, rcode))
	writers.Put(w)
	return true
}

// nameText is name as text for a log line, or "?" when it is not one.
func nameText(name []byte) string {
	n, err := model.NameFromWire(name)
	if err != nil {
		return "?"
	}
	return string(n)
}
