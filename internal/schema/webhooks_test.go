package schema

import (
	"errors"
	"testing"
	"time"
)

// Webhooks and outbox entries come back as encoded; a value that is not
// the record its key names is corrupt, and the error names the key.
func TestWebhookCodecs(t *testing.T) {
	w := &Webhook{Name: "ops", URL: "https://x.example/", Secret: "0123456789abcdef", Events: []string{"drill_failed"}, Created: time.Unix(1, 0).UTC()}
	b, err := EncodeWebhook(w)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeWebhook(WebhookKey("ops"), b)
	if err != nil || got.Secret != w.Secret || got.Events[0] != "drill_failed" {
		t.Fatalf("DecodeWebhook = %+v, %v", got, err)
	}
	e := &OutboxEntry{Seq: 7, Webhook: "ops", Delivery: "d1", Kind: "drill_failed", Payload: []byte(`{"id":"x"}`)}
	b2, err := EncodeOutboxEntry(e)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := DecodeOutboxEntry(OutboxKey(7), b2); err != nil || got.Delivery != "d1" || string(got.Payload) != `{"id":"x"}` {
		t.Fatalf("DecodeOutboxEntry = %+v, %v", got, err)
	}
	for _, tc := range []struct {
		key string
		b   []byte
		dec func(string, []byte) error
	}{
		{WebhookKey("other"), b, decW},
		{WebhookKey("ops"), []byte("null"), decW},
		{WebhookKey("ops"), []byte("{}"), decW},
		{PrefixWebhooks, b, decW},
		{OutboxKey(8), b2, decO},
		{OutboxKey(7), []byte(`{"seq":7}`), decO},
		{PrefixWebhookOutbox + "7", b2, decO},
	} {
		if err := tc.dec(tc.key, tc.b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("decoding %s under %q: %v, want corrupt", tc.b, tc.key, err)
		}
	}
}

func decW(k string, b []byte) error { _, err := DecodeWebhook(k, b); return err }
func decO(k string, b []byte) error { _, err := DecodeOutboxEntry(k, b); return err }
