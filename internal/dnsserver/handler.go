package dnsserver

import (
	"errors"
	"math/rand/v2"
	"net/netip"

	"github.com/stratusdns/stratus/internal/dnswire"
	"github.com/stratusdns/stratus/internal/zone"
)

// SnapshotSource gives the query path the current zone snapshot. Load is
// called once per query and must be cheap and non-blocking (an atomic
// pointer load); *atomic.Pointer[zone.Snapshot] satisfies it.
type SnapshotSource interface {
	Load() *zone.Snapshot
}

// SteeringSource gives the query path the current steering state for
// steered names. Steering is called once per query and must be cheap and
// non-blocking (an atomic pointer load).
type SteeringSource interface {
	Steering() zone.Steering
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
	src   SnapshotSource
	steer SteeringSource
	q     dnswire.Query
	a     zone.Answer
	w     dnswire.Writer
	req   zone.Request
}

func newHandler(src SnapshotSource, steer SteeringSource, udpSize int) *handler {
	h := &handler{src: src, steer: steer, w: dnswire.Writer{UDPSize: udpSize}}
	h.req.Client.Seed(rand.Uint64())
	return h
}

// serve returns the response to req from the address from, or nil when req
// gets no reply. The response is valid until the next call.
func (h *handler) serve(req []byte, from netip.Addr, tcp bool) []byte {
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
	c := &h.req.Client
	c.Addr = from
	c.HasECS, c.ECSAddr, c.ECSSource = q.ECS, q.ECSAddr, q.ECSSource
	// The zones are loaded before the steering state: steering learns of
	// a new service before the zones mark its name, so a service the
	// zones show is one the steering state knows.
	zones := h.src.Load()
	h.req.Steering = nil
	if h.steer != nil {
		h.req.Steering = h.steer.Steering()
	}
	zones.LookupFor(&h.a, q.Qname, q.Qtype, &h.req)
	q.ECSScope = c.Scope
	limit := dnswire.MaxMessageSize
	if !tcp {
		limit = h.w.UDPLimit(q)
	}
	out, _ := h.w.Answer(q, &h.a, limit)
	return out
}
