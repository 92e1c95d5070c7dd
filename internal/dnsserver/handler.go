package dnsserver

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/netip"

	"github.com/stratusdns/stratus/internal/dnsconst"
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

// Extended answers what the query path hands over: zone transfers (AXFR,
// IXFR), NOTIFY, dynamic updates and every request signed with TSIG. Serve
// may take its time (it reads the store) and may write several messages (a
// zone transfer over TCP).
// answer is the query path's own response to a signed ordinary query, to
// be signed; nil for a transfer.
type Extended interface {
	Serve(ctx context.Context, req, answer []byte, from netip.Addr, tcp bool, write func([]byte) error)
}

// tsigReserve is the room kept in a UDP answer to a signed query for the
// TSIG record added to it: a key name of up to 100 octets, the algorithm
// name and a SHA-512 MAC. An answer that does not fit is truncated and
// asked again over TCP.
const tsigReserve = 200

// handler turns one request into one response. Each UDP reader and each
// TCP connection has its own; it is not safe for concurrent use.
type handler struct {
	src   SnapshotSource
	steer SteeringSource
	ext   bool  // hand transfers, NOTIFY, updates and signed requests over
	edge  *edge // cookies and identity (nil: none)
	// handOver is set when serve returned nil because the request goes to
	// the Extended handler; answer then holds the query path's response
	// to a signed ordinary query (nil for a transfer).
	handOver bool
	answer   []byte
	q        dnswire.Query
	a        zone.Answer
	w        dnswire.Writer
	req      zone.Request
	an       *anomalyCounter // nil: anomaly detection is off
	st       *readerStats    // nil: not counted for metrics
}

// handler returns a handler for one UDP reader or TCP connection, with
// the server's cookies and identity, counting for anomaly detection into
// an (nil: not counted), and for metrics into st (nil: not counted).
func (s *Server) handler(an *anomalyCounter, st *readerStats) *handler {
	h := newHandler(s.src, s.steer, s.cfg.UDPSize, s.ext != nil)
	h.edge = s.edge
	h.w.NSID = s.edge.identity
	h.an = an
	h.st = st
	return h
}

func newHandler(src SnapshotSource, steer SteeringSource, udpSize int, ext bool) *handler {
	h := &handler{src: src, steer: steer, ext: ext, w: dnswire.Writer{UDPSize: udpSize}}
	h.req.Client.Seed(rand.Uint64())
	return h
}

// serve returns the response to req from the address from, or nil when req
// gets no reply here: none at all, or (handOver set) one from the Extended
// handler. The response is valid until the next call.
func (h *handler) serve(req []byte, from netip.Addr, tcp bool) []byte {
	out := h.serveQuery(req, from, tcp)
	if h.st != nil {
		switch {
		case out != nil:
			h.st.query(h.a.Zone, h.q.Qtype, h.rcode(out))
		case h.handOver:
			h.st.c.handOver[handOverKind(&h.q)]++
		}
	}
	return out
}

// rcode returns the rcode of resp, the response h wrote last: the
// header's four bits, and the upper bits (BADVERS, BADCOOKIE) that its
// OPT record carries while the record is still there (a slip of rate
// limiting empties the additional section).
func (h *handler) rcode(resp []byte) int {
	rc := int(resp[3] & dnsconst.RcodeMask)
	if len(resp) >= 12 && (resp[10] != 0 || resp[11] != 0) {
		rc |= int(h.w.ExtendedRcode()) << 4
	}
	return rc
}

// handOverKind is the kind of request q is, as handed over.
func handOverKind(q *dnswire.Query) int {
	switch {
	case q.Qtype == dnsconst.TypeAXFR && q.Opcode == dnsconst.OpcodeQuery:
		return kindAXFR
	case q.Qtype == dnsconst.TypeIXFR && q.Opcode == dnsconst.OpcodeQuery:
		return kindIXFR
	case q.Opcode == dnsconst.OpcodeNotify:
		return kindNotify
	case q.Opcode == dnsconst.OpcodeUpdate:
		return kindUpdate
	}
	return kindTSIG
}

func (h *handler) serveQuery(req []byte, from netip.Addr, tcp bool) []byte {
	h.handOver, h.answer = false, nil
	h.a.Zone = nil // set by a lookup: the zone that answered, for metrics and the tap
	err := dnswire.ParseQuery(req, &h.q)
	if err != nil {
		var fe *dnswire.FormatError
		if errors.As(err, &fe) {
			return h.w.Error(&h.q, h.checkCookieError(from, fe.Rcode))
		}
		return nil
	}
	h.checkCookie(from)
	q := &h.q
	if h.ext && (q.TSIG || q.Qtype == dnsconst.TypeAXFR || q.Qtype == dnsconst.TypeIXFR || q.Opcode == dnsconst.OpcodeUpdate || q.Opcode == dnsconst.OpcodeNotify) {
		h.handOver = true
		if q.Opcode == dnsconst.OpcodeQuery && q.Qtype != dnsconst.TypeAXFR && q.Qtype != dnsconst.TypeIXFR {
			h.answer = h.respond(from, tcp)
		}
		return nil
	}
	return h.respond(from, tcp)
}

// respond answers the parsed query h.q.
func (h *handler) respond(from netip.Addr, tcp bool) []byte {
	q := &h.q
	switch {
	case q.Opcode != dnsconst.OpcodeQuery:
		return h.w.Error(q, dnsconst.RcodeNotImp)
	case q.Qtype == dnsconst.TypeOPT:
		return h.w.Error(q, dnsconst.RcodeFormErr)
	case q.Qclass != dnsconst.ClassINET:
		return h.chaos(tcp)
	case q.Qtype == dnsconst.TypeAXFR || q.Qtype == dnsconst.TypeIXFR:
		// Only a server without an Extended handler gets here: serve
		// hands transfers over to one, which checks the zone's ACL.
		return h.w.Error(q, dnsconst.RcodeRefused)
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
	if h.an != nil {
		h.an.count(q.Qname, h.a.Rcode, h.a.Zone)
	}
	q.ECSScope = c.Scope
	limit := dnsconst.MaxMessageSize
	if !tcp {
		limit = h.w.UDPLimit(q)
	}
	if q.TSIG && h.ext { // room for the signature the Extended handler adds
		limit = max(limit-tsigReserve, 256)
	}
	out, _ := h.w.Answer(q, &h.a, limit)
	return out
}
