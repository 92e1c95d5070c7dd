package xfr

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"runtime/debug"
	"time"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/dnsconst"
	"github.com/stratusdns/stratus/internal/dnswire"
	"github.com/stratusdns/stratus/internal/lograte"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/update"
)

// Source is what the transfer server reads and writes of zones: their
// transfers and dynamic updates. The control plane's *control.Zones is
// one.
type Source interface {
	ReadTransfer(ctx context.Context, z model.Name, since *uint32, allow func(*model.ZoneSettings) error) (*control.ZoneTransfer, error)
	update.Applier
}

// Keys finds the TSIG keys requests are signed with. The control plane's
// *control.TSIGKeys is one.
type Keys interface {
	TSIGKey(ctx context.Context, name string) (*model.TSIGKey, error)
}

// Handler answers the requests the query path hands over.
type Handler struct {
	src      Source
	keys     Keys
	log      *slog.Logger
	notified Notified
	now      func() time.Time // the clock that stamps TSIG records
	tsig     TSIGLimits
	replays  *replayCache
	// limited logs what unauthenticated requests cause (refusals,
	// failed signatures), rate-limited by kind; served, when set, lets
	// updates to zones not served here be refused before parsing.
	limited *slog.Logger
	rate    *lograte.Limiter // limited's limiter, whose counts Run writes
	served  Served
	metrics *Metrics
}

// Notified takes the NOTIFY messages for secondary zones
// (*secondary.Manager): it reports whether the zone is a secondary here
// and whether the sender may notify it, and starts a refresh if so;
// serial is the one the NOTIFY announced (nil when it named none). An
// error means the refresh could not be started.
type Notified interface {
	Notify(ctx context.Context, z, key model.Name, from netip.Addr, serial *uint32) (known, allowed bool, err error)
}

// SetNotified hands incoming NOTIFY messages to n.
func (s *Handler) SetNotified(n Notified) { s.notified = n }

// New returns a handler reading zones from src and TSIG keys from keys.
func New(src Source, keys Keys, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	rate := lograte.New(log, 0, 0, nil)
	limited := rate.Logger()
	return &Handler{src: src, keys: keys, log: log, now: time.Now, replays: newReplayCache(0, limited), rate: rate, limited: limited, metrics: NewMetrics(nil)}
}

// Run writes, every interval of the rate-limited log until ctx ends, how
// many lines of each kind it left out, so that a flood that stops is
// still counted.
func (s *Handler) Run(ctx context.Context) { s.rate.Run(ctx) }

// bigTransfer is the number of records of a transfer after which its
// memory is returned to the operating system at once.
const bigTransfer = 100000

// errRefused is an ACL's refusal.
var errRefused = errors.New("refused by the zone's transfer ACL")

// Serve answers req, which came from from over TCP or UDP. answer is the
// query path's own response to a signed ordinary query, which Serve signs.
// write sends one message; Serve stops at its first error. Serve may take
// its time: it reads the store.
func (s *Handler) Serve(ctx context.Context, req, answer []byte, from netip.Addr, tcp bool, write func([]byte) error) {
	if s.refuseEarly(req, from, write) {
		return
	}
	m := new(dns.Msg)
	// An opcode not implemented is NOTIMP whatever the question section
	// holds; the others must have exactly one question (or zone).
	if err := m.Unpack(req); err != nil || len(m.Question) != 1 && dnswire.Implemented(uint8(m.Opcode)) || misplacedTSIG(m) {
		s.metrics.answered(m, dns.RcodeFormatError)
		s.reply(m, nil, dns.RcodeFormatError, write)
		return
	}
	sg, err := verify(ctx, s.keys, req, m, s.now, s.tsig, s.replays)
	if err != nil {
		s.log.Warn("tsig key lookup failed", "err", err)
		s.metrics.answered(m, dns.RcodeServerFailure)
		s.reply(m, nil, dns.RcodeServerFailure, write)
		return
	}
	if sg != nil && sg.tsigErr != 0 {
		s.limited.Info("tsig verification failed", "key", sg.key.Name, "error", dns.RcodeToString[int(sg.tsigErr)], "from", from)
		s.metrics.answered(m, dns.RcodeNotAuth)
		s.reply(m, sg, dns.RcodeNotAuth, write)
		return
	}
	switch m.Opcode {
	case dns.OpcodeNotify:
		s.notify(ctx, m, sg, from, write)
		return
	case dns.OpcodeUpdate:
		log := s.log
		if sg == nil { // unsigned: anyone may send it, from any address
			log = s.limited
		}
		rcode := update.Apply(ctx, s.src, m, sg.keyName(), from, log)
		s.metrics.update(rcode)
		s.reply(m, sg, rcode, write)
		return
	case dns.OpcodeQuery:
	default:
		s.reply(m, sg, dns.RcodeNotImplemented, write)
		return
	}
	switch m.Question[0].Qtype {
	case dns.TypeAXFR, dns.TypeIXFR:
		s.transfer(ctx, m, sg, from, tcp, write)
	default:
		s.signAnswer(m, sg, answer, write)
	}
}

// signAnswer signs the query path's answer to a signed query.
func (s *Handler) signAnswer(req *dns.Msg, sg *signer, resp []byte, write func([]byte) error) {
	r := new(dns.Msg)
	if resp == nil || r.Unpack(resp) != nil {
		s.reply(req, sg, dns.RcodeServerFailure, write)
		return
	}
	b, err := sg.pack(r)
	if err != nil {
		s.log.Warn("signing an answer failed", "err", err)
		return
	}
	write(b)
}

// reply sends an answer with rcode and no records.
func (s *Handler) reply(req *dns.Msg, sg *signer, rcode int, write func([]byte) error) {
	r := new(dns.Msg)
	r.SetRcode(req, rcode)
	r.Authoritative = rcode == dns.RcodeSuccess || rcode == dns.RcodeNameError
	r.Extra = nil
	if len(req.Question) != 1 {
		r.Question = nil // echo a question only when there was one
	}
	addOPT(req, r)
	b, err := sg.pack(r)
	if err != nil {
		s.log.Warn("packing a reply failed", "err", err)
		return
	}
	write(b)
}

// addOPT gives the response an OPT record when the request had one
// (RFC 6891 section 6.1.1), advertising the query path's default size.
func addOPT(req, resp *dns.Msg) {
	if req.IsEdns0() != nil {
		resp.SetEdns0(dnsconst.DefaultUDPSize, false)
	}
}

// transfer answers an AXFR or IXFR.
func (s *Handler) transfer(ctx context.Context, req *dns.Msg, sg *signer, from netip.Addr, tcp bool, write func([]byte) error) {
	q := req.Question[0]
	kind := dns.TypeToString[q.Qtype]
	rcode, failed := dns.RcodeSuccess, false
	defer func() { s.metrics.transfer(q.Qtype, rcode, failed) }()
	if q.Qtype == dns.TypeAXFR && !tcp {
		rcode = dns.RcodeRefused
		s.reply(req, sg, rcode, write) // RFC 5936 section 4.2: TCP only
		return
	}
	z, err := model.ParseName(q.Name)
	if err != nil {
		rcode = dns.RcodeFormatError
		s.reply(req, sg, rcode, write)
		return
	}
	var since *uint32
	if q.Qtype == dns.TypeIXFR {
		for _, rr := range req.Ns {
			if soa, ok := rr.(*dns.SOA); ok {
				since = &soa.Serial
			}
		}
		if since == nil {
			rcode = dns.RcodeFormatError
			s.reply(req, sg, rcode, write) // RFC 1995 section 3
			return
		}
	}
	start := time.Now()
	key := sg.keyName()
	zt, err := s.src.ReadTransfer(ctx, z, since, func(zs *model.ZoneSettings) error {
		if !model.ACLAllows(zs.ACL.Transfer, key, from) {
			return errRefused
		}
		return nil
	})
	switch {
	case errors.Is(err, control.ErrZoneNotFound):
		rcode = dns.RcodeNotAuth
	case errors.Is(err, errRefused):
		s.limited.Info("zone transfer refused", "zone", z, "type", kind, "from", from, "key", key)
		rcode = dns.RcodeRefused
	case err != nil:
		s.log.Warn("zone transfer failed", "zone", z, "err", err)
		rcode = dns.RcodeServerFailure
	}
	if rcode != dns.RcodeSuccess {
		s.reply(req, sg, rcode, write)
		return
	}
	var records, messages int
	if tcp && !zt.Incremental {
		ws := newWireStream(req, z, sg, write)
		err = writeFull(ws, zt)
		records, messages = ws.records, ws.messages
	} else {
		st := newStream(req, sg, write)
		var soa dns.RR
		soa, err = model.ToRR(z, model.TypeSOA, zt.SOA.TTL, zt.SOA.Rdata[0])
		switch {
		case err != nil:
		case !tcp:
			// IXFR over UDP: the current SOA tells the secondary whether
			// to ask again over TCP (RFC 1995 section 2).
			err = st.add(soa)
		default:
			err = writeIncremental(st, soa, zt)
		}
		if err == nil {
			err = st.flush()
		}
		records, messages = st.records, st.messages
	}
	if records > bigTransfer {
		// What the transfer read is garbage now: give it back rather than
		// let the heap stay at its peak.
		debug.FreeOSMemory()
	}
	if err != nil {
		failed = true
		s.log.Warn("zone transfer aborted", "zone", z, "type", kind, "from", from, "err", err)
		return
	}
	s.log.Info("zone transfer", "zone", z, "type", kind, "incremental", zt.Incremental, "serial", zt.Serial,
		"records", records, "messages", messages, "took", time.Since(start).Round(time.Millisecond), "from", from, "key", key)
}

// notify answers a NOTIFY (RFC 1996): NOERROR when the zone is a secondary
// here and the sender is one of its primaries (or its notify ACL allows
// it), which starts a refresh; NOTAUTH for a zone that is not a secondary
// here; REFUSED for anyone else; SERVFAIL when the refresh could not be
// started (the store is away).
func (s *Handler) notify(ctx context.Context, req *dns.Msg, sg *signer, from netip.Addr, write func([]byte) error) {
	q := req.Question[0]
	z, err := model.ParseName(q.Name)
	if err != nil || q.Qtype != dns.TypeSOA {
		s.reply(req, sg, dns.RcodeFormatError, write)
		return
	}
	var serial *uint32
	for _, rr := range req.Answer { // the hint of RFC 1996 section 3.7
		if soa, ok := rr.(*dns.SOA); ok && dns.CanonicalName(soa.Hdr.Name) == string(z) {
			serial = &soa.Serial
		}
	}
	known, allowed := false, false
	if s.notified != nil {
		known, allowed, err = s.notified.Notify(ctx, z, sg.keyName(), from, serial)
	}
	rcode := dns.RcodeSuccess
	switch {
	case err != nil:
		s.log.Warn("notify: cannot start the refresh", "zone", z, "from", from, "err", err)
		rcode = dns.RcodeServerFailure
	case !known:
		rcode = dns.RcodeNotAuth
	case !allowed:
		rcode = dns.RcodeRefused
	}
	log := s.log
	if rcode != dns.RcodeSuccess {
		log = s.limited
	}
	log.Info("notify received", "zone", z, "from", from, "key", sg.keyName(), "rcode", dns.RcodeToString[rcode])
	r := new(dns.Msg)
	r.SetRcode(req, rcode)
	r.Authoritative = rcode == dns.RcodeSuccess
	addOPT(req, r)
	b, err := sg.pack(r)
	if err == nil {
		write(b)
	}
}
