package xfr

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/clock"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/telemetry"
)

// panickySource is a NotifySource whose RRsets (read by a round, not by
// Run) panics once armed.
type panickySource struct {
	NotifySource
	armed atomic.Bool
}

func (s *panickySource) RRsets(ctx context.Context, z model.Name, f control.RRsetFilter) ([]*model.RRset, uint32, error) {
	if s.armed.CompareAndSwap(true, false) {
		panic("round broke")
	}
	return s.NotifySource.RRsets(ctx, z, f)
}

// TestNotifyRoundPanicRecovered: a NOTIFY round that panics ends alone,
// counted as notify; the notifier goes on, and the next change is
// notified.
func TestNotifyRoundPanicRecovered(t *testing.T) {
	e := newEnv(t, 1)
	sec, addr := startSecondary(t, 0, 0, e.key)
	targets := []model.NotifyTarget{{Address: addr}}
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := e.svc.Zones.UpdateZone(ctx, "x.test.", control.ZoneUpdate{Notify: &targets}, "test"); err != nil {
		t.Fatal(err)
	}
	src := &panickySource{NotifySource: e.svc.Zones}
	src.armed.Store(true)
	r := &notifierRun{ctx: ctx, pub: &followed{Publisher: e.pub}, clock: clock.NewFake(time.Now())}
	r.n = NewNotifier(r.pub, src, e.svc.TSIGKeys, NotifierOptions{Clock: r.clock}, nil)
	done := make(chan struct{})
	go func() { defer close(done); r.n.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	before := telemetry.PanicCount("notify")

	r.stepDelay(t) // the round at start panics
	r.settle(t)
	if n := telemetry.PanicCount("notify") - before; n != 1 {
		t.Fatalf("panics counted: %v, want 1", n)
	}
	if got, _ := sec.seen(); len(got) != 0 {
		t.Fatalf("the round that panicked notified %v", got)
	}
	e.change(t, "h0.x.test.", "198.51.100.7")
	r.stepDelay(t)
	waitFor(t, time.Minute, func() bool { got, _ := sec.seen(); return len(got) == 1 && got[0] == 2 })
}
