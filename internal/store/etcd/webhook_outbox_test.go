package etcd

import (
	"context"
	"fmt"
	"testing"

	"github.com/stratusdns/stratus/internal/control"
)

// The webhook outbox on etcd, under its default --max-txn-ops (128):
// a burst of alerts (one batch of the dispatcher is up to 256 alerts,
// times the webhooks that take them) is written, and a webhook whose
// receiver was away long enough to leave 200 deliveries pending can be
// deleted.
func TestWebhookOutboxOnEtcd(t *testing.T) {
	ctx := context.Background()
	p := control.New(openPrefix(t, t.TempDir()+"/"), nil, control.Options{AuditKey: []byte("0123456789abcdef0123456789abcdef")})
	for _, name := range []string{"ops", "pager"} {
		if _, err := p.Webhooks.CreateWebhook(ctx, control.Webhook{Name: name, URL: "http://127.0.0.1:9/" + name}, "test"); err != nil {
			t.Fatal(err)
		}
	}
	burst := func(alerts int) func([]control.Webhook) []control.OutboxEntry {
		return func(hooks []control.Webhook) []control.OutboxEntry {
			var out []control.OutboxEntry
			for i := range alerts {
				for _, h := range hooks {
					out = append(out, control.OutboxEntry{Webhook: h.Name, Delivery: fmt.Sprintf("%s-%d", h.Name, i), Kind: "endpoint_down", Payload: []byte(`{}`)})
				}
			}
			return out
		}
	}
	// 100 endpoints going down at once, two webhooks.
	if added, err := p.Webhooks.Enqueue(ctx, burst(100)); err != nil || len(added) != 200 {
		t.Errorf("Enqueue of 100 alerts to 2 webhooks: %d entries, %v", len(added), err)
	}
	// A receiver away for a while: 200 more alerts, in batches that fit.
	for range 4 {
		if _, err := p.Webhooks.Enqueue(ctx, burst(50)); err != nil {
			t.Fatalf("Enqueue of 50 alerts to 2 webhooks: %v", err)
		}
	}
	if err := p.Webhooks.DeleteWebhook(ctx, "pager", "test"); err != nil {
		t.Errorf("deleting a webhook with 100 or more deliveries pending: %v", err)
	}
	box, err := p.Webhooks.Outbox(ctx)
	if err != nil || len(box) != 300 {
		t.Fatalf("outbox after deleting pager: %d entries, %v; want ops's 300", len(box), err)
	}
	for i, e := range box {
		if e.Webhook != "ops" || (i > 0 && e.Seq <= box[i-1].Seq) {
			t.Fatalf("outbox entry %d: %+v (after seq %d)", i, e, box[max(i-1, 0)].Seq)
		}
	}
}
