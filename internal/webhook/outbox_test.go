package webhook

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/alert"
	"github.com/stratusdns/stratus/internal/control"
)

// flaky is a Store whose Enqueue fails while fail is above zero, and
// that records the outbox reads.
type flaky struct {
	Store
	fail, calls atomic.Int32
	mu          sync.Mutex
	pages       []uint64 // the after of each OutboxPage
	limits      []int
}

var errFlaky = errors.New("the store is away a moment")

func (f *flaky) Enqueue(ctx context.Context, build func([]control.Webhook) []control.OutboxEntry) ([]control.OutboxEntry, error) {
	f.calls.Add(1)
	if f.fail.Add(-1) >= 0 {
		return nil, errFlaky
	}
	return f.Store.Enqueue(ctx, build)
}

func (f *flaky) OutboxPage(ctx context.Context, after uint64, limit int) ([]control.OutboxEntry, uint64, error) {
	f.mu.Lock()
	f.pages, f.limits = append(f.pages, after), append(f.limits, limit)
	f.mu.Unlock()
	return f.Store.OutboxPage(ctx, after, limit)
}

// newFlakyEnv is newEnv with the dispatcher on a flaky store.
func newFlakyEnv(t *testing.T, lead bool) (*env, *flaky) {
	t.Helper()
	var f *flaky
	e := newEnvOn(t, lead, func(s Store) Store { f = &flaky{Store: s}; return f })
	return e, f
}

// Steering's alerts on a node that does not lead are dropped, counted
// and logged (at debug): the leader writes them.
func TestNotLeaderDropsCounted(t *testing.T) {
	e := newEnv(t, false)
	e.hook(t, control.Webhook{Name: "ops", URL: "http://127.0.0.1:9/"})
	e.d.Emit(alert.Event{Kind: alert.EndpointDown, Service: "api.example.com."})
	e.d.Emit(alert.Event{Kind: alert.FailoverStarted, Service: "api.example.com."})
	waitFor(t, "the alerts to be counted", func() bool {
		return e.value(t, "stratus_webhook_alerts_dropped_total", "not_leader") == 2
	})
	if !strings.Contains(e.logs.String(), "does not lead") {
		t.Errorf("not logged:\n%s", e.logs)
	}
	if n := len(e.outbox(t)); n != 0 {
		t.Errorf("outbox holds %d entries", n)
	}
}

// A write the store refuses a moment is tried again, with a backoff, and
// then made; one it keeps refusing is given up after three tries, the
// alerts counted.
func TestStoreErrorRetried(t *testing.T) {
	for _, fails := range []int32{2, 3} {
		t.Run(fmt.Sprint(fails), func(t *testing.T) {
			rc := newReceiver(t, status(204))
			e, f := newFlakyEnv(t, true)
			e.hook(t, control.Webhook{Name: "ops", URL: rc.URL})
			f.fail.Store(fails)
			e.d.Emit(alert.Event{Kind: alert.EndpointDown, Service: "api.example.com."})
			for i := int32(1); i < min(fails+1, storeTries); i++ {
				waitFor(t, fmt.Sprintf("try %d", i), func() bool { return f.calls.Load() == i })
				if w := e.nextWait(t); w != storeBackoff<<(2*(i-1)) {
					t.Errorf("wait after try %d: %v", i, w)
				}
				e.clk.StepToNext()
			}
			if fails < storeTries {
				waitFor(t, "the delivery", func() bool { return len(rc.requests()) == 1 })
				if v := e.value(t, "stratus_webhook_alerts_dropped_total", "store_error"); v != 0 {
					t.Errorf("dropped %v", v)
				}
				return
			}
			waitFor(t, "the alert to be dropped", func() bool {
				return e.value(t, "stratus_webhook_alerts_dropped_total", "store_error") == 1
			})
			if n := f.calls.Load(); n != storeTries {
				t.Errorf("%d tries, want %d", n, storeTries)
			}
		})
	}
}

// A webhook with MaxPending deliveries pending takes no more alerts
// (dropped, counted, logged); another webhook still does.
func TestOutboxCap(t *testing.T) {
	down := newReceiver(t, status(503))
	e := newEnv(t, true, func(o *Options) { o.MaxPending = 3 })
	e.hook(t, control.Webhook{Name: "down", URL: down.URL, Services: []string{"a.example."}})
	e.hook(t, control.Webhook{Name: "other", URL: down.URL, Services: []string{"b.example."}})
	for i := range 5 {
		e.d.Emit(alert.Event{Kind: alert.EndpointDown, Service: "a.example.", Endpoint: fmt.Sprint(i)})
	}
	waitFor(t, "two alerts dropped", func() bool {
		return e.value(t, "stratus_webhook_alerts_dropped_total", "outbox_full") == 2
	})
	// Written one at a time, as Lead reads them or not.
	for i := range 2 {
		e.d.Emit(alert.Event{Kind: alert.EndpointDown, Service: "a.example.", Endpoint: fmt.Sprint(10 + i)})
		e.d.Emit(alert.Event{Kind: alert.EndpointDown, Service: "b.example.", Endpoint: fmt.Sprint(i)})
	}
	waitFor(t, "four alerts dropped", func() bool {
		return e.value(t, "stratus_webhook_alerts_dropped_total", "outbox_full") == 4
	})
	waitFor(t, "the other webhook's alerts", func() bool { return len(e.outbox(t)) == 5 })
	n := map[string]int{}
	for _, en := range e.outbox(t) {
		n[en.Webhook]++
	}
	if n["down"] != 3 || n["other"] != 2 {
		t.Errorf("outbox holds %v, want down 3, other 2", n)
	}
	if !strings.Contains(e.logs.String(), "webhook outbox full") {
		t.Errorf("not logged:\n%s", e.logs)
	}
}

// The leader reads the outbox a page at a time, and then only what was
// added after the last entry it read.
func TestLeaderReadsOutboxInPages(t *testing.T) {
	rc := newReceiver(t, status(204))
	e, f := newFlakyEnv(t, false)
	e.hook(t, control.Webhook{Name: "ops", URL: rc.URL})
	ctx := context.Background()
	const n = outboxPage + 20
	if _, err := e.plane.Webhooks.Enqueue(ctx, func(hooks []control.Webhook) []control.OutboxEntry {
		var out []control.OutboxEntry
		for i := range n {
			out = append(out, control.OutboxEntry{Webhook: "ops", Delivery: fmt.Sprint(i), Kind: "endpoint_down", Created: e.clk.Now(), Payload: []byte(`{}`)})
		}
		return out
	}); err != nil {
		t.Fatal(err)
	}
	e.lead(t)
	waitFor(t, "every delivery", func() bool { return len(rc.requests()) == n })
	e.d.Emit(alert.Event{Kind: alert.EndpointDown, Service: "api.example.com."})
	waitFor(t, "one more delivery", func() bool { return len(rc.requests()) == n+1 })
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, after := range f.pages {
		if f.limits[i] > outboxPage {
			t.Errorf("read %d: %d entries at once", i, f.limits[i])
		}
		if (i == 0) != (after == 0) {
			t.Errorf("read %d after %d: only the first reads from the start (reads %v)", i, after, f.pages)
		}
	}
	if len(f.pages) < 3 {
		t.Errorf("reads %v: want the first page, the second, and more", f.pages)
	}
}

// The delivery series of a deleted webhook go when the leader finds it
// gone.
func TestDeletedWebhookSeriesDeleted(t *testing.T) {
	rc := newReceiver(t, status(204))
	e := newEnv(t, true)
	e.hook(t, control.Webhook{Name: "ops", URL: rc.URL})
	e.hook(t, control.Webhook{Name: "keep", URL: rc.URL})
	e.d.Emit(alert.Event{Kind: alert.EndpointDown, Service: "api.example.com."})
	waitFor(t, "the deliveries", func() bool {
		return e.value(t, "stratus_webhook_deliveries_total", "ops", "ok") == 1 && e.value(t, "stratus_webhook_deliveries_total", "keep", "ok") == 1
	})
	if err := e.plane.Webhooks.DeleteWebhook(context.Background(), "ops", "test"); err != nil {
		t.Fatal(err)
	}
	e.clk.Step(time.Hour) // the next poll
	waitFor(t, "the series to go", func() bool { return !e.hasSeries(t, "ops") })
	if !e.hasSeries(t, "keep") {
		t.Error("the series of a webhook kept went too")
	}
}

func (e *env) hasSeries(t *testing.T, webhook string) bool {
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "stratus_webhook_deliveries_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "webhook" && l.GetValue() == webhook {
					return true
				}
			}
		}
	}
	return false
}
