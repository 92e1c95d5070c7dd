package xfr

import (
	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/stratusdns/stratus/internal/telemetry"
)

// Metrics are the counts of the transfer server and the notifier:
// NOTIFY sent, acknowledged and retried, zone transfers served by type
// and result, and dynamic updates by the rcode answered. One Metrics
// serves every Notifier of a node (a fresh one each term) and its
// Handler.
type Metrics struct {
	notifySent, notifyAcked, notifyRetries prometheus.Counter
	transfers                              *prometheus.CounterVec
	updates                                *prometheus.CounterVec
	updateNotAuth                          prometheus.Counter // refusals before parsing
}

// NewMetrics returns the metrics, registered with reg (nil: kept but not
// exported).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: telemetry.Namespace, Subsystem: "notify", Name: name, Help: help})
	}
	m := &Metrics{
		notifySent:    counter("sent_total", "NOTIFY messages sent to secondaries, each attempt counted."),
		notifyAcked:   counter("acked_total", "NOTIFY messages a secondary acknowledged (NOERROR)."),
		notifyRetries: counter("retries_total", "NOTIFY attempts after the first to a secondary that had not acknowledged."),
		transfers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: telemetry.Namespace, Subsystem: "xfr", Name: "transfers_out_total",
			Help: "Zone transfers requested of this server, by type (axfr, ixfr) and result: ok, refused (REFUSED or NOTAUTH: not allowed, or no such zone), error.",
		}, []string{"type", "result"}),
		updates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: telemetry.Namespace, Subsystem: "update", Name: "requests_total",
			Help: "Dynamic updates (RFC 2136) answered, by rcode.",
		}, []string{"rcode"}),
	}
	m.updateNotAuth = m.updates.WithLabelValues("NOTAUTH")
	for _, t := range []string{"axfr", "ixfr"} {
		for _, r := range []string{"ok", "refused", "error"} {
			m.transfers.WithLabelValues(t, r)
		}
	}
	if reg != nil {
		reg.MustRegister(m.notifySent, m.notifyAcked, m.notifyRetries, m.transfers, m.updates)
	}
	return m
}

// transfer counts a transfer of qtype answered with rcode (NOERROR: the
// transfer was sent, failed when aborted).
func (m *Metrics) transfer(qtype uint16, rcode int, failed bool) {
	t := "axfr"
	if qtype == dns.TypeIXFR {
		t = "ixfr"
	}
	r := "ok"
	switch {
	case rcode == dns.RcodeRefused || rcode == dns.RcodeNotAuth:
		r = "refused"
	case rcode != dns.RcodeSuccess || failed:
		r = "error"
	}
	m.transfers.WithLabelValues(t, r).Inc()
}

// update counts an update answered with rcode.
func (m *Metrics) update(rcode int) {
	name, ok := dns.RcodeToString[rcode]
	if !ok {
		name = "other"
	}
	m.updates.WithLabelValues(name).Inc()
}

// answered counts a request answered with rcode before it reached the
// transfer or update code (a malformed request, a failed signature).
func (m *Metrics) answered(req *dns.Msg, rcode int) {
	switch {
	case req.Opcode == dns.OpcodeUpdate:
		m.update(rcode)
	case req.Opcode == dns.OpcodeQuery && len(req.Question) == 1 &&
		(req.Question[0].Qtype == dns.TypeAXFR || req.Question[0].Qtype == dns.TypeIXFR):
		m.transfer(req.Question[0].Qtype, rcode, false)
	}
}

// SetMetrics counts the handler's transfers and updates in m.
func (s *Handler) SetMetrics(m *Metrics) { s.metrics = m }
