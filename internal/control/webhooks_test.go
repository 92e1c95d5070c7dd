package control_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/control/controltest"
)

// The outbox takes entries in order, one per webhook build returns;
// deleting a webhook deletes the deliveries to it, and its audit entries
// name neither the secret nor the URL's path.
func TestWebhookOutbox(t *testing.T) {
	p, _ := controltest.New(t, control.Options{})
	ctx := context.Background()
	for _, name := range []string{"a", "b"} {
		if _, err := p.Webhooks.CreateWebhook(ctx, control.Webhook{Name: name, URL: "https://hooks.example.com/services/T0/B0/credential", Secret: "0123456789abcdef-secret"}, "test"); err != nil {
			t.Fatal(err)
		}
	}
	body := json.RawMessage(`{"id":"x"}`)
	for range 2 {
		added, err := p.Webhooks.Enqueue(ctx, func(hooks []control.Webhook) []control.OutboxEntry {
			var out []control.OutboxEntry
			for _, h := range hooks {
				out = append(out, control.OutboxEntry{Webhook: h.Name, Delivery: "d-" + h.Name, Kind: "drill_failed", Payload: body})
			}
			return out
		})
		if err != nil || len(added) != 2 {
			t.Fatalf("Enqueue = %v, %v", added, err)
		}
	}
	box, err := p.Webhooks.Outbox(ctx)
	if err != nil || len(box) != 4 {
		t.Fatalf("outbox %v, %v", box, err)
	}
	for i := 1; i < len(box); i++ {
		if box[i].Seq <= box[i-1].Seq {
			t.Errorf("outbox out of order: %v", box)
		}
	}
	if err := p.Webhooks.DeleteWebhook(ctx, "a", "test"); err != nil {
		t.Fatal(err)
	}
	box, _ = p.Webhooks.Outbox(ctx)
	if len(box) != 2 || box[0].Webhook != "b" || box[1].Webhook != "b" {
		t.Errorf("after deleting a: %v", box)
	}
	if err := p.Webhooks.DeleteOutbox(ctx, box[0].Seq); err != nil {
		t.Fatal(err)
	}
	if box, _ = p.Webhooks.Outbox(ctx); len(box) != 1 {
		t.Errorf("after DeleteOutbox: %v", box)
	}
	entries, _, err := p.Audit.List(ctx, control.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if strings.HasPrefix(e.Object, "webhook ") {
			n++
			if strings.Contains(e.Detail, "secret") || strings.Contains(e.Detail, "credential") {
				t.Errorf("audit entry %+v", e)
			}
		}
	}
	if n != 3 {
		t.Errorf("%d webhook audit entries, want 3 (two creates, a delete)", n)
	}
}
