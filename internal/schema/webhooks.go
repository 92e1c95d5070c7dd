package schema

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Webhook is what "webhooks/<name>" holds: where alerts go, the secret
// that signs them, and which alerts (empty filters take every one).
type Webhook struct {
	Name     string    `json:"name"`
	URL      string    `json:"url"`
	Secret   string    `json:"secret"`
	Events   []string  `json:"events,omitempty"`
	Services []string  `json:"services,omitempty"`
	Zones    []string  `json:"zones,omitempty"`
	Created  time.Time `json:"created"`
}

// OutboxEntry is what "webhook-outbox/<seq:016x>" holds: one alert to
// deliver to one webhook, kept until the webhook accepts it or it is
// given up. Payload is the body sent, byte for byte on every attempt;
// Delivery names the delivery, the same on every attempt.
type OutboxEntry struct {
	Seq      uint64          `json:"seq"`
	Webhook  string          `json:"webhook"`
	Delivery string          `json:"delivery"`
	Kind     string          `json:"kind"`
	Created  time.Time       `json:"created"`
	Payload  json.RawMessage `json:"payload"`
}

// WebhookKey is the key of the webhook named name.
func WebhookKey(name string) string { return PrefixWebhooks + name }

// OutboxKey is the key of outbox entry seq.
func OutboxKey(seq uint64) string { return SeqKey(PrefixWebhookOutbox, seq) }

// KeyWebhookOutboxNext holds the next outbox sequence number (16 hex
// digits): every write to the outbox reads and advances it, so numbers
// are picked without reading the outbox, and follow the commit order.
const KeyWebhookOutboxNext = PrefixWebhookSeq + "next"

// EncodeOutboxNext encodes the next outbox sequence number.
func EncodeOutboxNext(seq uint64) []byte { return []byte(fmt.Sprintf("%016x", seq)) }

// DecodeOutboxNext decodes the value of KeyWebhookOutboxNext.
func DecodeOutboxNext(b []byte) (uint64, error) {
	n, err := strconv.ParseUint(string(b), 16, 64)
	if err != nil || len(b) != 16 {
		return 0, Corrupt(KeyWebhookOutboxNext, errors.New("not 16 hex digits"))
	}
	return n, nil
}

// EncodeWebhook encodes a webhook, secret included.
func EncodeWebhook(w *Webhook) ([]byte, error) { return json.Marshal(w) }

// DecodeWebhook decodes the webhook stored under key.
func DecodeWebhook(key string, b []byte) (*Webhook, error) {
	name, ok := strings.CutPrefix(key, PrefixWebhooks)
	if !ok || name == "" || strings.Contains(name, "/") {
		return nil, BadKey(key)
	}
	return decodeJSON(key, b, func(w *Webhook) error { return same("webhook", w.Name, name) })
}

// EncodeOutboxEntry encodes an outbox entry.
func EncodeOutboxEntry(e *OutboxEntry) ([]byte, error) { return json.Marshal(e) }

// DecodeOutboxEntry decodes the outbox entry stored under key.
func DecodeOutboxEntry(key string, b []byte) (*OutboxEntry, error) {
	seq, ok := ParseSeqKey(PrefixWebhookOutbox, key)
	if !ok {
		return nil, BadKey(key)
	}
	return decodeJSON(key, b, func(e *OutboxEntry) error {
		var err error
		if e.Webhook == "" || e.Delivery == "" || len(e.Payload) == 0 {
			err = errEmptyOutbox
		}
		return errors.Join(sameSeq(e.Seq, seq), err)
	})
}

var errEmptyOutbox = errors.New("the outbox entry names no webhook, delivery or payload")
