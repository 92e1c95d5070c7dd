package secondary

import (
	"errors"
	"fmt"
	"strings"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/stratusdns/stratus/internal/telemetry"
)

// transfersIn is stratus_xfr_transfers_in_total{type,result}: the
// transfers this node asked of its primaries, by type (axfr, ixfr) and
// result (ok; refused when the primary answered REFUSED or NOTAUTH;
// error otherwise).
func transfersIn(reg prometheus.Registerer) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: telemetry.Namespace, Subsystem: "xfr", Name: "transfers_in_total",
		Help: "Zone transfers of secondary zones from their primaries, by type (axfr, ixfr) and result: ok, refused (the primary answered REFUSED or NOTAUTH), error.",
	}, []string{"type", "result"})
	for _, t := range []string{"axfr", "ixfr"} {
		for _, r := range []string{"ok", "refused", "error"} {
			c.WithLabelValues(t, r)
		}
	}
	if reg != nil {
		reg.MustRegister(c)
	}
	return c
}

// countTransfer counts a transfer of type typ ("axfr", "ixfr") that
// ended with err.
func (m *Manager) countTransfer(typ string, err error) {
	r := "ok"
	switch {
	case refusedTransfer(err):
		r = "refused"
	case err != nil:
		r = "error"
	}
	m.transfers.WithLabelValues(typ, r).Inc()
}

// refusedTransfer reports whether err is a primary's REFUSED or NOTAUTH
// to a transfer, as miekg/dns reports a transfer's rcode.
func refusedTransfer(err error) bool {
	var de *dns.Error
	if err == nil || !errors.As(err, &de) {
		return false
	}
	for _, rcode := range []int{dns.RcodeRefused, dns.RcodeNotAuth} {
		if strings.HasSuffix(de.Error(), fmt.Sprintf("bad xfr rcode: %d", rcode)) {
			return true
		}
	}
	return false
}
