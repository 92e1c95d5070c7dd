package dnsserver

import (
	"errors"

	"github.com/stratusdns/stratus/internal/dnswire"
	"github.com/stratusdns/stratus/internal/zone"
)

// SnapshotSource gives the query path the current zone snapshot. Load is
// called once per query and must be cheap and non-blocking (an atomic
// pointer load); *atomic.Pointer[zone.Snapshot] satisfies it.
type SnapshotSource interface {
	Load() *zone.Snapshot
}

// Query types answered specially.
const (
	qtypeOPT  = 41
	qtypeIXFR = 251
	qtypeAXFR = 252
)

// handler turns one request into one response. Each UDP reader and each
// TCP connection has its own; it is not safe for concurrent use.
type handler struct {
	src SnapshotSource
	q   dnswire.Query
	a   zone.Answer
	w   dnswire.Writer
}

func newHandler(src SnapshotSource, udpSize int) *handler {
	return &handler{src: src, w: dnswire.Writer{UDPSize: udpSize}}
}

// serve returns the response to req, or nil when req gets no reply. limit
// is the largest response the transport carries (0 means UDP: the
// requester's EDNS size). The response is valid until the next call.
func (h *handler) serve(req []byte, tcp bool) []byte {
	err := dnswire.ParseQuery(req, &h.q)
	if err != nil {
		var fe *dnswire.FormatError
		if errors.As(err, &fe) {
			return h.w.Error(&h.q, fe.Rcode)
		}
		return nil
	}
	q := &h.q
	switch {
	case q.Opcode != dnswire.OpcodeQuery:
		return h.w.Error(q, dnswire.RcodeNotImp)
	case q.Qtype == qtypeOPT:
		return h.w.Error(q, dnswire.RcodeFormErr)
	case q.Qclass != dnswire.ClassINET:
		return h.w.Error(q, dnswire.RcodeRefused)
	case q.Qtype == qtypeAXFR || q.Qtype == qtypeIXFR:
		// Zone transfers are refused unless allowed, and none is yet.
		return h.w.Error(q, dnswire.RcodeRefused)
	}
	h.src.Load().Lookup(&h.a, q.Qname, q.Qtype)
	limit := dnswire.MaxMessageSize
	if !tcp {
		limit = h.w.UDPLimit(q)
	}
	out, _ := h.w.Answer(q, &h.a, limit)
	return out
}
