package secondary

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/clock"
	"github.com/stratusdns/stratus/internal/model"
)

// TestTransferRecordLimit: a primary whose transfer never ends is cut off
// at the record limit; nothing is loaded and the error names the limit.
func TestTransferRecordLimit(t *testing.T) {
	p := startPrimary(t)
	p.mu.Lock()
	p.endless = true
	p.mu.Unlock()
	svc := newService(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := svc.Secondaries.CreateSecondaryZone(ctx, model.ZoneSettings{Name: "sec.test.", Primaries: []model.NotifyTarget{{Address: p.addr}}}, "test"); err != nil {
		t.Fatal(err)
	}
	m := New(svc.Secondaries, svc.TSIGKeys, Options{Clock: clock.NewFake(time.Now()), MaxRecords: 1000}, nil)
	done := make(chan struct{})
	go func() { defer close(done); m.Run(ctx) }()
	defer func() { cancel(); <-done }()

	z := waitZone(t, svc, "the failure recorded", func(z model.ZoneInfo) bool { return z.Secondary.LastError != "" })
	if want := "the primary sent more than 1000 records, the limit of one transfer (zones.max_records)"; !strings.Contains(z.Secondary.LastError, want) {
		t.Fatalf("last error %q; want it to contain %q", z.Secondary.LastError, want)
	}
	if z.Records != 0 || z.Serial != 0 {
		t.Errorf("the cut-off transfer loaded records: %+v", z)
	}
}
