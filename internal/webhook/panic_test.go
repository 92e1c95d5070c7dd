package webhook

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/alert"
	"github.com/stratusdns/stratus/internal/clock"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/control/controltest"
	"github.com/stratusdns/stratus/internal/telemetry"
)

// panicky is a Store whose Enqueue and Webhook panic once each.
type panicky struct {
	Store
	enqueue, webhook atomic.Bool
}

func (p *panicky) Enqueue(ctx context.Context, build func([]control.Webhook) []control.OutboxEntry) ([]control.OutboxEntry, error) {
	if p.enqueue.CompareAndSwap(false, true) {
		panic("enqueue broke")
	}
	return p.Store.Enqueue(ctx, build)
}

func (p *panicky) Webhook(ctx context.Context, name string) (*control.Webhook, error) {
	if p.webhook.CompareAndSwap(false, true) {
		panic("webhook broke")
	}
	return p.Store.Webhook(ctx, name)
}

// A panic writing alerts to the outbox loses that batch alone, and a
// panic in a delivery attempt counts as a failed attempt: the process
// goes on, the next alert is written and delivered, and both panics are
// counted.
func TestPanicsRecovered(t *testing.T) {
	rc := newReceiver(t, status(204))
	plane, _ := controltest.New(t, control.Options{})
	if _, err := plane.Webhooks.CreateWebhook(context.Background(), control.Webhook{Name: "ops", URL: rc.URL, Secret: testSecret}, "test"); err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	d := New(Options{Node: "n1", Clock: clk, Timeout: time.Minute, Poll: time.Hour})
	st := &panicky{Store: plane.Webhooks}
	before := telemetry.PanicCount("webhook")
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); d.Run(ctx, st) }()
	go func() { defer wg.Done(); d.Lead(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait() })
	waitFor(t, "the dispatcher to lead", func() bool { return d.leaderTerm() != nil })

	d.Emit(alert.Event{Kind: alert.EndpointDown, Service: "a.example."})
	waitFor(t, "the first batch", func() bool { return st.enqueue.Load() })
	d.Emit(alert.Event{Kind: alert.EndpointDown, Service: "b.example."})
	waitFor(t, "the attempt that panics", func() bool { return st.webhook.Load() })
	waitFor(t, "the delivery after the retry", func() bool {
		if _, ok := clk.Next(); ok {
			clk.StepToNext() // the retry's wait, or the poll
		}
		return len(rc.requests()) > 0
	})
	if n := telemetry.PanicCount("webhook") - before; n != 2 {
		t.Errorf("panics counted: %v, want 2", n)
	}
}
