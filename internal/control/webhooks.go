package control

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/stratusdns/stratus/internal/alert"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/schema"
	"github.com/stratusdns/stratus/internal/store"
)

// Alert webhooks: where alerts are delivered ("webhooks/<name>"), and the
// outbox of deliveries not yet made ("webhook-outbox/<seq:016x>"), which
// internal/webhook fills and empties. The outbox is not audited: it is
// the delivery's own bookkeeping, like the health events.

// Webhook is a stored webhook (schema.Webhook); Secret signs deliveries.
type Webhook = schema.Webhook

// OutboxEntry is one delivery not yet made (schema.OutboxEntry).
type OutboxEntry = schema.OutboxEntry

// Webhooks owns the alert webhooks and their outbox (webhooks.go).
type Webhooks struct{ *core }

var (
	// ErrWebhookNotFound means no webhook has that name.
	ErrWebhookNotFound = errors.New("webhook not found")
	// ErrWebhookExists means a webhook of that name exists already.
	ErrWebhookExists = errors.New("webhook already exists")
)

var webhookNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// MinWebhookSecret is the shortest secret a webhook may be given.
const MinWebhookSecret = 16

// CheckWebhook validates w and returns it with its filters in canonical
// form; errors name the field.
func CheckWebhook(w Webhook) (Webhook, error) {
	if !webhookNameRE.MatchString(w.Name) {
		return w, model.Errorf("name", "%q is not a webhook name (lowercase letters, digits, '.', '_', '-'; at most 63)", w.Name)
	}
	if err := checkWebhookURL(w.URL); err != nil {
		return w, err
	}
	if w.Secret != "" && len(w.Secret) < MinWebhookSecret {
		return w, model.Errorf("secret", "at least %d characters (or none: one is generated)", MinWebhookSecret)
	}
	if strings.ContainsAny(w.Secret, "\r\n") {
		return w, model.Errorf("secret", "must be one line")
	}
	events := []string{}
	for i, e := range w.Events {
		if !slices.Contains(alert.Kinds, alert.Kind(e)) {
			known := make([]string, len(alert.Kinds))
			for j, k := range alert.Kinds {
				known[j] = string(k)
			}
			return w, model.Errorf(fmt.Sprintf("events[%d]", i), "%q is not an alert kind (%s)", e, strings.Join(known, ", "))
		}
		if !slices.Contains(events, e) {
			events = append(events, e)
		}
	}
	w.Events = events
	var err error
	if w.Services, err = canonicalNames("services", w.Services); err != nil {
		return w, err
	}
	if w.Zones, err = canonicalNames("zones", w.Zones); err != nil {
		return w, err
	}
	if len(w.Events) == 0 {
		w.Events = nil
	}
	return w, nil
}

func checkWebhookURL(raw string) error {
	if raw == "" {
		return model.Errorf("url", "required: the http:// or https:// address alerts are posted to")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return model.Errorf("url", "%q is not a URL: %v", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return model.Errorf("url", "%q: the scheme must be http or https", raw)
	}
	if u.Host == "" || u.Hostname() == "" {
		return model.Errorf("url", "%q names no host", raw)
	}
	if u.Fragment != "" {
		return model.Errorf("url", "%q has a fragment (#...), which is never sent", raw)
	}
	return nil
}

func canonicalNames(field string, names []string) ([]string, error) {
	var out []string
	for i, s := range names {
		n, err := model.ParseName(s)
		if err != nil {
			return nil, model.Errorf(fmt.Sprintf("%s[%d]", field, i), "%q: %v", s, err)
		}
		if !slices.Contains(out, string(n)) {
			out = append(out, string(n))
		}
	}
	return out, nil
}

// NewWebhookSecret returns a fresh secret: 32 random octets in hex.
func NewWebhookSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail (Go 1.24)
	}
	return hex.EncodeToString(b)
}

// CreateWebhook stores a new webhook. An empty secret generates one. The
// webhook returned carries its secret: the caller shows it once.
func (s *Webhooks) CreateWebhook(ctx context.Context, w Webhook, actor string) (*Webhook, error) {
	w, err := CheckWebhook(w)
	if err != nil {
		return nil, err
	}
	if w.Secret == "" {
		w.Secret = NewWebhookSecret()
	}
	w.Created = s.opts.Clock().UTC()
	b, err := schema.EncodeWebhook(&w)
	if err != nil {
		return nil, err
	}
	_, err = s.st.Update(ctx, func(btx store.Tx) error {
		tx := s.audited(btx)
		key := schema.WebhookKey(w.Name)
		_, ok, err := tx.Get(key)
		if err != nil {
			return err
		}
		if ok {
			return ErrWebhookExists
		}
		if err := tx.Put(key, b); err != nil {
			return err
		}
		return tx.webhookChange(ctx, w.Name, "webhook.create", webhookDetail(&w), actor)
	})
	if err != nil {
		return nil, err
	}
	s.log.Info("webhook created", "name", w.Name, "host", urlHost(w.URL), "by", actor)
	return &w, nil
}

// urlHost is the scheme and host of a webhook's URL: what logs and the
// audit log show of it, as its path and query may hold a credential of
// the receiver's (chat systems put one there).
func urlHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// webhookDetail describes a webhook in its audit entry: never the secret,
// nor the URL's path.
func webhookDetail(w *Webhook) string {
	d := "url " + urlHost(w.URL) + "/…"
	if len(w.Events) > 0 {
		d += ", events " + strings.Join(w.Events, ",")
	}
	if len(w.Services) > 0 {
		d += ", services " + strings.Join(w.Services, ",")
	}
	if len(w.Zones) > 0 {
		d += ", zones " + strings.Join(w.Zones, ",")
	}
	return d
}

// webhookChange records a change of the webhook named name.
func (t *auditTx) webhookChange(ctx context.Context, name, action, detail, actor string) error {
	if err := t.change(schema.AuditWebhookStream(name), action, "webhook "+name, detail, schema.WebhookKey(name)); err != nil {
		return err
	}
	return t.commit(ctx, actor)
}

// Webhook returns one webhook, secret included (the API never shows it).
func (s *Webhooks) Webhook(ctx context.Context, name string) (*Webhook, error) {
	if !webhookNameRE.MatchString(name) {
		return nil, ErrWebhookNotFound
	}
	var w *Webhook
	err := s.st.View(ctx, func(tx store.ReadTx) error {
		key := schema.WebhookKey(name)
		b, ok, err := tx.Get(key)
		if err != nil {
			return err
		}
		if !ok {
			return ErrWebhookNotFound
		}
		w, err = schema.DecodeWebhook(key, b)
		return err
	})
	return w, err
}

// Webhooks returns every webhook by name, secrets included.
func (s *Webhooks) Webhooks(ctx context.Context) ([]Webhook, error) {
	var out []Webhook
	err := s.st.View(ctx, func(tx store.ReadTx) error {
		var err error
		out, err = scanWebhooks(tx)
		return err
	})
	return out, err
}

func scanWebhooks(tx store.ReadTx) ([]Webhook, error) {
	var out []Webhook
	err := tx.Scan(schema.PrefixWebhooks, "", func(key string, value []byte) error {
		w, err := schema.DecodeWebhook(key, value)
		if err != nil {
			return err
		}
		out = append(out, *w)
		return nil
	})
	return out, err
}

// OutboxChunk is the most outbox entries one transaction writes or
// deletes: etcd refuses a transaction of more than --max-txn-ops (128 by
// default) operations.
const OutboxChunk = 100

// outboxPage is how many outbox entries one read returns.
const outboxPage = 500

// DeleteWebhook deletes a webhook, then the deliveries to it not yet
// made. The webhook's record goes in one transaction; its deliveries
// after it, OutboxChunk at a time: a delivery left behind (the node
// stopped, the store refused) is dropped by the leader when it finds its
// webhook gone.
func (s *Webhooks) DeleteWebhook(ctx context.Context, name, actor string) error {
	if !webhookNameRE.MatchString(name) {
		return ErrWebhookNotFound
	}
	_, err := s.st.Update(ctx, func(btx store.Tx) error {
		tx := s.audited(btx)
		key := schema.WebhookKey(name)
		_, ok, err := tx.Get(key)
		if err != nil {
			return err
		}
		if !ok {
			return ErrWebhookNotFound
		}
		if err := tx.Delete(key); err != nil {
			return err
		}
		return tx.webhookChange(ctx, name, "webhook.delete", "", actor)
	})
	if err != nil {
		return err
	}
	s.log.Info("webhook deleted", "name", name, "by", actor)
	if n, err := s.dropOutbox(ctx, name); err != nil {
		s.log.Warn("deleting a deleted webhook's deliveries; the leader drops those left", "name", name, "deleted", n, "err", err)
	}
	return nil
}

// dropOutbox deletes the outbox entries of webhook name, and those no
// one can read, OutboxChunk per transaction. It returns how many it
// deleted.
func (s *Webhooks) dropOutbox(ctx context.Context, name string) (int, error) {
	n, start := 0, ""
	for {
		var drop []string
		last := ""
		err := s.st.View(ctx, func(tx store.ReadTx) error {
			drop, last = nil, ""
			seen := 0
			return tx.Scan(schema.PrefixWebhookOutbox, start, func(k string, v []byte) error {
				e, err := schema.DecodeOutboxEntry(k, v)
				if err != nil || e.Webhook == name {
					drop = append(drop, k) // an entry no one can read is dropped too
				}
				last = k
				if seen++; seen >= outboxPage {
					return store.ErrStopScan
				}
				return nil
			})
		})
		if err != nil {
			return n, err
		}
		for chunk := range slices.Chunk(drop, OutboxChunk) {
			_, err := s.st.Update(ctx, func(tx store.Tx) error {
				for _, k := range chunk {
					if err := tx.Delete(k); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return n, err
			}
			n += len(chunk)
		}
		if last == "" {
			return n, nil
		}
		start = last
	}
}

// Enqueue adds deliveries to the outbox: build is given the webhooks as
// stored and returns the entries to add (their Seq is assigned here). The
// entries are written OutboxChunk per transaction, in order, each chunk
// committed before the next is tried. It returns the entries written:
// with an error, those of the chunks committed before it.
//
// Sequence numbers come from KeyWebhookOutboxNext (and never fall behind
// the clock, in nanoseconds), so a write reads one key, not the outbox,
// and conflicts only with another write to the outbox.
func (s *Webhooks) Enqueue(ctx context.Context, build func([]Webhook) []OutboxEntry) ([]OutboxEntry, error) {
	var hooks []Webhook
	err := s.st.View(ctx, func(tx store.ReadTx) error {
		var err error
		hooks, err = scanWebhooks(tx)
		return err
	})
	if err != nil {
		return nil, err
	}
	entries := build(hooks)
	var out []OutboxEntry
	for chunk := range slices.Chunk(entries, OutboxChunk) {
		var written []OutboxEntry
		_, err := s.st.Update(ctx, func(tx store.Tx) error {
			written = written[:0]
			next := uint64(s.opts.Clock().UnixNano())
			b, ok, err := tx.Get(schema.KeyWebhookOutboxNext)
			if err != nil {
				return err
			}
			if ok {
				stored, err := schema.DecodeOutboxNext(b)
				if err != nil {
					return err
				}
				next = max(next, stored)
			}
			for _, e := range chunk {
				e.Seq = next
				next++
				b, err := schema.EncodeOutboxEntry(&e)
				if err != nil {
					return err
				}
				if err := tx.Put(schema.OutboxKey(e.Seq), b); err != nil {
					return err
				}
				written = append(written, e)
			}
			return tx.Put(schema.KeyWebhookOutboxNext, schema.EncodeOutboxNext(next))
		})
		if err != nil {
			return out, err
		}
		out = append(out, written...)
	}
	return out, nil
}

// Outbox returns the deliveries not yet made, oldest first, read a page
// at a time. An entry that cannot be read is left out and logged.
func (s *Webhooks) Outbox(ctx context.Context) ([]OutboxEntry, error) {
	var out []OutboxEntry
	after := uint64(0)
	for {
		page, last, err := s.OutboxPage(ctx, after, outboxPage)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if last == 0 {
			return out, nil
		}
		after = last
	}
}

// OutboxPage reads at most limit outbox entries whose sequence numbers
// follow after (0: from the first), oldest first. last is the sequence
// number of the last key read (entries that cannot be read are left out
// and logged, and counted in limit), 0 when there was none: the next page
// follows last.
func (s *Webhooks) OutboxPage(ctx context.Context, after uint64, limit int) (entries []OutboxEntry, last uint64, err error) {
	start := ""
	if after > 0 {
		start = schema.OutboxKey(after)
	}
	err = s.st.View(ctx, func(tx store.ReadTx) error {
		entries, last = nil, 0
		n := 0
		return tx.Scan(schema.PrefixWebhookOutbox, start, func(k string, v []byte) error {
			if seq, ok := schema.ParseSeqKey(schema.PrefixWebhookOutbox, k); ok {
				last = seq
			}
			e, err := schema.DecodeOutboxEntry(k, v)
			if err != nil {
				schema.Skip(s.log, k, err)
			} else {
				entries = append(entries, *e)
			}
			if n++; n >= limit {
				return store.ErrStopScan
			}
			return nil
		})
	})
	return entries, last, err
}

// DeleteOutbox removes a delivery from the outbox: made, or given up.
func (s *Webhooks) DeleteOutbox(ctx context.Context, seq uint64) error {
	_, err := s.st.Update(ctx, func(tx store.Tx) error { return tx.Delete(schema.OutboxKey(seq)) })
	return err
}
