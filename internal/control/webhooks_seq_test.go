package control

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/schema"
	"github.com/stratusdns/stratus/internal/store"
)

// scanRecorder records the prefixes each Update scans and the keys it
// reads.
type scanRecorder struct {
	keyRecorder
	scans []string
}

func (r *scanRecorder) Update(ctx context.Context, fn func(tx store.Tx) error) (store.Revision, error) {
	return r.keyRecorder.Update(ctx, func(tx store.Tx) error { return fn(&scanTx{Tx: tx, r: r}) })
}

type scanTx struct {
	store.Tx
	r *scanRecorder
}

func (t *scanTx) Scan(prefix, start string, fn func(string, []byte) error) error {
	t.r.mu.Lock()
	t.r.scans = append(t.r.scans, prefix)
	t.r.mu.Unlock()
	return t.Tx.Scan(prefix, start, fn)
}

// Enqueue picks sequence numbers without reading the outbox: its writes
// read one key (the next number) and scan nothing, so a long outbox costs
// nothing and conflicts with nothing; numbers still rise with a clock
// that stands still, and the outbox reads back in pages in their order.
func TestEnqueueReadsNoOutbox(t *testing.T) {
	e := newEnv(t, Options{})
	rec := &scanRecorder{keyRecorder: keyRecorder{Store: e.st}}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	p := New(rec, e.pub, Options{Clock: func() time.Time { return now }})
	ctx := context.Background()
	if _, err := p.Webhooks.CreateWebhook(ctx, Webhook{Name: "ops", URL: "http://127.0.0.1:9/"}, "test"); err != nil {
		t.Fatal(err)
	}
	build := func(n int) func([]Webhook) []OutboxEntry {
		return func(hooks []Webhook) []OutboxEntry {
			var out []OutboxEntry
			for range n {
				out = append(out, OutboxEntry{Webhook: "ops", Delivery: "d", Kind: "endpoint_down", Payload: []byte(`{}`)})
			}
			return out
		}
	}
	for _, n := range []int{3, 250, 1} {
		rec.txs, rec.scans = nil, nil
		added, err := p.Webhooks.Enqueue(ctx, build(n))
		if err != nil || len(added) != n {
			t.Fatalf("Enqueue(%d) = %d entries, %v", n, len(added), err)
		}
		if want := (n + OutboxChunk - 1) / OutboxChunk; len(rec.txs) != want {
			t.Errorf("Enqueue(%d): %d transactions, want %d", n, len(rec.txs), want)
		}
		if len(rec.scans) > 0 {
			t.Errorf("Enqueue(%d) scanned %v in a write", n, rec.scans)
		}
		for _, tx := range rec.txs {
			for k := range tx.read {
				if strings.HasPrefix(k, schema.PrefixWebhookOutbox) {
					t.Errorf("Enqueue(%d) read %s in a write", n, k)
				}
			}
		}
	}
	box, err := p.Webhooks.Outbox(ctx)
	if err != nil || len(box) != 254 {
		t.Fatalf("outbox: %d entries, %v", len(box), err)
	}
	for i := 1; i < len(box); i++ {
		if box[i].Seq <= box[i-1].Seq {
			t.Fatalf("entry %d: seq %d after %d", i, box[i].Seq, box[i-1].Seq)
		}
	}
	page, last, err := p.Webhooks.OutboxPage(ctx, box[9].Seq, 5)
	if err != nil || len(page) != 5 || page[0].Seq != box[10].Seq || last != box[14].Seq {
		t.Errorf("OutboxPage(after entry 9, 5) = %d entries from %v, last %d, %v", len(page), page, last, err)
	}
}
