package secondary

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/stratusdns/stratus/internal/clock"
	"github.com/stratusdns/stratus/internal/model"
)

// TestTransfersInCounted: transfers from a primary on loopback are
// counted by type and result: the first AXFR, an IXFR answered with the
// whole zone, and, once the primary refuses, the IXFR and the AXFR that
// follows it.
func TestTransfersInCounted(t *testing.T) {
	p := startPrimary(t)
	svc := newService(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := svc.Secondaries.CreateSecondaryZone(ctx, model.ZoneSettings{Name: "sec.test.", Primaries: []model.NotifyTarget{{Address: p.addr}}}, "test"); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	m := New(svc.Secondaries, svc.TSIGKeys, Options{Clock: clock.NewFake(time.Now()), Metrics: reg}, nil) // only NOTIFY refreshes
	done := make(chan struct{})
	go func() { defer close(done); m.Run(ctx) }()
	defer func() { cancel(); <-done }()
	from := netip.MustParseAddr("127.0.0.1")

	waitZone(t, svc, "the first transfer", func(z model.ZoneInfo) bool { return z.Serial == 1 })
	p.mu.Lock()
	p.serial = 2
	p.mu.Unlock()
	m.Notify(ctx, "sec.test.", "", from, nil)
	waitZone(t, svc, "the second transfer", func(z model.ZoneInfo) bool { return z.Serial == 2 })
	p.mu.Lock()
	p.serial, p.refuse = 3, true
	p.mu.Unlock()
	m.Notify(ctx, "sec.test.", "", from, nil)
	waitZone(t, svc, "the refusal recorded", func(z model.ZoneInfo) bool { return z.Secondary.LastError != "" })

	want := `
# HELP stratus_xfr_transfers_in_total Zone transfers of secondary zones from their primaries, by type (axfr, ixfr) and result: ok, refused (the primary answered REFUSED or NOTAUTH), error.
# TYPE stratus_xfr_transfers_in_total counter
stratus_xfr_transfers_in_total{result="error",type="axfr"} 0
stratus_xfr_transfers_in_total{result="error",type="ixfr"} 0
stratus_xfr_transfers_in_total{result="ok",type="axfr"} 1
stratus_xfr_transfers_in_total{result="ok",type="ixfr"} 1
stratus_xfr_transfers_in_total{result="refused",type="axfr"} 1
stratus_xfr_transfers_in_total{result="refused",type="ixfr"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "stratus_xfr_transfers_in_total"); err != nil {
		t.Error(err)
	}
}
