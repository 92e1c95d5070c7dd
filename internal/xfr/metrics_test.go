package xfr

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/model"
)

// TestTransferMetrics: transfers served, refused and failed are counted
// by type and result.
func TestTransferMetrics(t *testing.T) {
	e := newEnv(t, 3)
	reg := prometheus.NewPedanticRegistry()
	e.srv.SetMetrics(NewMetrics(reg))
	axfr, _, _ := request(t, dns.TypeAXFR, 0, nil, "")
	ixfr, _, _ := request(t, dns.TypeIXFR, 1, e.key, dns.HmacSHA512)
	_, noSOA, _ := request(t, dns.TypeIXFR, 1, nil, "")
	noSOA.Ns = nil
	bad, _ := noSOA.Pack()
	nope := new(dns.Msg)
	nope.SetAxfr("nope.test.")
	unknown, _ := nope.Pack()
	for _, r := range []struct {
		req  []byte
		from string
		tcp  bool
	}{
		{axfr, "10.0.0.1", true},    // served
		{axfr, "10.0.0.2", true},    // served
		{axfr, "192.0.2.1", true},   // refused: the ACL
		{axfr, "10.0.0.1", false},   // refused: over UDP
		{unknown, "10.0.0.1", true}, // refused: no such zone (NOTAUTH)
		{ixfr, "192.0.2.1", true},   // served: the key
		{bad, "10.0.0.1", true},     // error: FORMERR
	} {
		if msgs := e.serve(t, r.req, r.from, r.tcp); len(msgs) == 0 {
			t.Fatalf("no answer from %s", r.from)
		}
	}
	want := `
# HELP stratus_xfr_transfers_out_total Zone transfers requested of this server, by type (axfr, ixfr) and result: ok, refused (REFUSED or NOTAUTH: not allowed, or no such zone), error.
# TYPE stratus_xfr_transfers_out_total counter
stratus_xfr_transfers_out_total{result="error",type="axfr"} 0
stratus_xfr_transfers_out_total{result="error",type="ixfr"} 1
stratus_xfr_transfers_out_total{result="ok",type="axfr"} 2
stratus_xfr_transfers_out_total{result="ok",type="ixfr"} 1
stratus_xfr_transfers_out_total{result="refused",type="axfr"} 3
stratus_xfr_transfers_out_total{result="refused",type="ixfr"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "stratus_xfr_transfers_out_total"); err != nil {
		t.Error(err)
	}
}

// TestUpdateMetrics: dynamic updates are counted by the rcode answered:
// applied, refused by the zone's update ACL, refused before parsing (a
// zone not served here) and failing their signature.
func TestUpdateMetrics(t *testing.T) {
	e := newEnv(t, 1)
	e.srv.SetServed(e.pub.Snapshots())
	reg := prometheus.NewPedanticRegistry()
	e.srv.SetMetrics(NewMetrics(reg))
	acl := []model.ACLRule{{Network: netip.MustParsePrefix("10.0.0.0/8")}}
	if _, err := e.svc.Zones.UpdateZone(context.Background(), "x.test.", control.ZoneUpdate{Update: &acl}, "test"); err != nil {
		t.Fatal(err)
	}
	signed := new(dns.Msg)
	signed.SetUpdate("x.test.")
	signed.SetTsig("other.", dns.HmacSHA256, 300, time.Now().Unix())
	badKey, _, err := dns.TsigGenerate(signed, "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", "", false)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct {
		req   []byte
		from  string
		rcode int
	}{
		{updateRequest(t, "x.test."), "10.0.0.1", dns.RcodeSuccess},
		{updateRequest(t, "x.test."), "10.0.0.2", dns.RcodeSuccess},
		{updateRequest(t, "x.test."), "192.0.2.7", dns.RcodeRefused},
		{updateRequest(t, "nope.test."), "10.0.0.1", dns.RcodeNotAuth},
		{badKey, "10.0.0.1", dns.RcodeNotAuth},
	} {
		_, m := unpack(t, e.serve(t, r.req, r.from, false))
		if m == nil || m.Rcode != r.rcode {
			t.Fatalf("answer %v, want rcode %s", m, dns.RcodeToString[r.rcode])
		}
	}
	want := `
# HELP stratus_update_requests_total Dynamic updates (RFC 2136) answered, by rcode.
# TYPE stratus_update_requests_total counter
stratus_update_requests_total{rcode="NOERROR"} 2
stratus_update_requests_total{rcode="NOTAUTH"} 2
stratus_update_requests_total{rcode="REFUSED"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "stratus_update_requests_total"); err != nil {
		t.Error(err)
	}
}

// TestNotifyMetrics: a NOTIFY the secondary refuses is sent again after
// the backoff; the secondary acknowledges the second.
func TestNotifyMetrics(t *testing.T) {
	e := newEnv(t, 1)
	_, addr := startSecondary(t, 0, 1, e.key)
	reg := prometheus.NewPedanticRegistry()
	m := NewMetrics(reg)
	r := startNotifier(t, e, []model.NotifyTarget{{Address: addr}}, NotifierOptions{Metrics: m})
	r.stepDelay(t)
	r.step(t, time.Second) // the backoff after the refusal
	r.settle(t)
	for _, c := range []struct {
		name string
		c    prometheus.Counter
		want float64
	}{
		{"stratus_notify_sent_total", m.notifySent, 2},
		{"stratus_notify_acked_total", m.notifyAcked, 1},
		{"stratus_notify_retries_total", m.notifyRetries, 1},
	} {
		if got := testutil.ToFloat64(c.c); got != c.want {
			t.Errorf("%s = %v, want %v", c.name, got, c.want)
		}
	}
	if n, err := testutil.GatherAndCount(reg, "stratus_notify_sent_total", "stratus_notify_acked_total", "stratus_notify_retries_total"); err != nil || n != 3 {
		t.Errorf("%d NOTIFY series exported (%v), want 3", n, err)
	}
}
