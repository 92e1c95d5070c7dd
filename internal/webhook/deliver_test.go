package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stratusdns/stratus/internal/alert"
	"github.com/stratusdns/stratus/internal/clock"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/control/controltest"
)

const testSecret = "0123456789abcdef-test-secret"

// received is one request a receiver got.
type received struct {
	header http.Header
	body   []byte
}

// receiver is a webhook receiver on loopback answering each request with
// the next of its answers (the last one for every request after).
type receiver struct {
	*httptest.Server
	mu      sync.Mutex
	got     []received
	answers []func(w http.ResponseWriter, r *http.Request)
}

func newReceiver(t *testing.T, answers ...func(w http.ResponseWriter, r *http.Request)) *receiver {
	rc := &receiver{answers: answers}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		n := len(rc.got)
		rc.got = append(rc.got, received{r.Header.Clone(), body})
		rc.mu.Unlock()
		rc.answers[min(n, len(rc.answers)-1)](w, r)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

func status(code int, header ...string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.WriteHeader(code)
	}
}

// hang answers nothing until the client gives up.
func hang(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() }

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// env is a dispatcher on a control plane, with a fake clock.
type env struct {
	plane *control.Plane
	clk   *clock.Fake
	d     *Dispatcher
	reg   *prometheus.Registry
	logs  *syncBuffer
	ctx   context.Context
	wg    *sync.WaitGroup
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newEnv starts a dispatcher; lead says whether it leads.
func newEnv(t *testing.T, lead bool, opts ...func(*Options)) *env {
	return newEnvOn(t, lead, nil, opts...)
}

// newEnvOn is newEnv with the dispatcher on wrap's store (nil: the
// plane's).
func newEnvOn(t *testing.T, lead bool, wrap func(Store) Store, opts ...func(*Options)) *env {
	t.Helper()
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	plane, _ := controltest.New(t, control.Options{Logger: log})
	e := &env{plane: plane, clk: clock.NewFake(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)), reg: prometheus.NewRegistry(), logs: logs}
	o := Options{Node: "n1", Clock: e.clk, Timeout: 300 * time.Millisecond, Poll: time.Hour, Registerer: e.reg, Logger: log}
	for _, f := range opts {
		f(&o)
	}
	e.d = New(o)
	var st Store = plane.Webhooks
	if wrap != nil {
		st = wrap(st)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e.ctx, e.wg = ctx, &sync.WaitGroup{}
	e.wg.Add(1)
	go func() { defer e.wg.Done(); e.d.Run(ctx, st) }()
	if lead {
		e.lead(t)
	}
	t.Cleanup(func() { cancel(); e.wg.Wait() })
	return e
}

// lead makes the dispatcher lead.
func (e *env) lead(t *testing.T) {
	t.Helper()
	e.wg.Add(1)
	go func() { defer e.wg.Done(); e.d.Lead(e.ctx) }()
	waitFor(t, "the dispatcher to lead", func() bool { return e.d.leaderTerm() != nil })
}

func (e *env) hook(t *testing.T, w control.Webhook) {
	t.Helper()
	if w.Secret == "" {
		w.Secret = testSecret
	}
	if _, err := e.plane.Webhooks.CreateWebhook(context.Background(), w, "test"); err != nil {
		t.Fatal(err)
	}
}

func (e *env) outbox(t *testing.T) []control.OutboxEntry {
	t.Helper()
	out, err := e.plane.Webhooks.Outbox(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// nextWait waits until the dispatcher waits for less than its poll (an
// attempt has settled and the next is due) and returns how long it waits.
func (e *env) nextWait(t *testing.T) time.Duration {
	t.Helper()
	var wait time.Duration
	waitFor(t, "the next attempt to be scheduled", func() bool {
		next, ok := e.clk.Next()
		wait = next.Sub(e.clk.Now())
		return ok && wait < 30*time.Minute
	})
	return wait
}

func checkSignature(t *testing.T, r received) {
	t.Helper()
	ts := r.header.Get(HeaderTimestamp)
	if want := Sign(testSecret, ts, r.body); r.header.Get(HeaderSignature) != want || ts == "" {
		t.Errorf("signature %q over timestamp %q, want %q", r.header.Get(HeaderSignature), ts, want)
	}
}

// A receiver that fails the first attempts (500, then 429 with
// Retry-After, then a timeout) gets the alert once it accepts, with the
// same delivery id and a valid signature each time, the waits between
// attempts following the backoff and Retry-After.
func TestDeliveryRetriesUntilAccepted(t *testing.T) {
	rc := newReceiver(t, status(500), status(429, "Retry-After", "7"), hang, status(204))
	e := newEnv(t, true)
	e.hook(t, control.Webhook{Name: "ops", URL: rc.URL})
	e.d.Emit(alert.Event{Kind: alert.FailoverStarted, Service: "api.example.com.", Pool: "primary", Summary: "failover", Details: map[string]string{"to": "backup"}})

	waitFor(t, "the first attempt", func() bool { return len(rc.requests()) == 1 })
	if w := e.nextWait(t); w < 800*time.Millisecond || w > 1200*time.Millisecond {
		t.Errorf("after a 500 the wait is %v, want 1s ±20%%", w)
	}
	e.clk.StepToNext()
	waitFor(t, "the second attempt", func() bool { return len(rc.requests()) == 2 })
	if w := e.nextWait(t); w != 7*time.Second {
		t.Errorf("after 429 with Retry-After: 7 the wait is %v, want 7s", w)
	}
	e.clk.StepToNext()
	waitFor(t, "the third attempt", func() bool { return len(rc.requests()) == 3 })
	if w := e.nextWait(t); w < 3200*time.Millisecond || w > 4800*time.Millisecond {
		t.Errorf("after a timeout (third failure) the wait is %v, want 4s ±20%%", w)
	}
	if n := len(e.outbox(t)); n != 1 {
		t.Fatalf("outbox holds %d entries while retrying, want 1", n)
	}
	e.clk.StepToNext()
	waitFor(t, "the outbox to empty", func() bool { return len(e.outbox(t)) == 0 })

	got := rc.requests()
	if len(got) != 4 {
		t.Fatalf("receiver got %d requests, want 4", len(got))
	}
	id := got[0].header.Get(HeaderDelivery)
	for i, r := range got {
		if r.header.Get(HeaderDelivery) != id || id == "" {
			t.Errorf("attempt %d: delivery %q, want %q on every attempt", i+1, r.header.Get(HeaderDelivery), id)
		}
		if !bytes.Equal(r.body, got[0].body) {
			t.Errorf("attempt %d: body differs from the first", i+1)
		}
		if ct := r.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q", ct)
		}
		if ev := r.header.Get(HeaderEvent); ev != "failover_started" {
			t.Errorf("%s %q", HeaderEvent, ev)
		}
		checkSignature(t, r)
	}
	var p Payload
	if err := json.Unmarshal(got[3].body, &p); err != nil {
		t.Fatal(err)
	}
	if p.Kind != "failover_started" || p.Service != "api.example.com." || p.Pool != "primary" || p.Details["to"] != "backup" || p.Node != "n1" || p.ID == "" {
		t.Errorf("payload %+v", p)
	}
	// The body, which is signed, carries what a receiver deduplicates on.
	if p.Delivery != id || p.Delivery == p.ID {
		t.Errorf("payload delivery %q, want the delivery id %q (not the alert id %q)", p.Delivery, id, p.ID)
	}
	if v := e.value(t, "stratus_webhook_deliveries_total", "ops", "ok"); v != 1 {
		t.Errorf("ok deliveries %v, want 1", v)
	}
	if v := e.value(t, "stratus_webhook_deliveries_total", "ops", "retry"); v != 3 {
		t.Errorf("retried deliveries %v, want 3", v)
	}
	waitFor(t, "no delivery pending", func() bool { return e.value(t, "stratus_webhook_outbox_pending") == 0 })
	if strings.Contains(e.logs.String(), testSecret) {
		t.Error("the secret is in the log")
	}
}

// Another 4xx is not retried: the delivery fails, is counted, and leaves
// the outbox; a redirect is not followed.
func TestDeliveryRefusedNotRetried(t *testing.T) {
	for _, code := range []int{400, 404, 301} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			other := newReceiver(t, status(204))
			rc := newReceiver(t, status(code, "Location", other.URL))
			e := newEnv(t, true)
			e.hook(t, control.Webhook{Name: "ops", URL: rc.URL})
			e.d.Emit(alert.Event{Kind: alert.EndpointDown, Service: "api.example.com."})
			waitFor(t, "the delivery to fail", func() bool {
				return e.value(t, "stratus_webhook_deliveries_total", "ops", "failed") == 1
			})
			waitFor(t, "the outbox to empty", func() bool { return len(e.outbox(t)) == 0 })
			if n := len(rc.requests()); n != 1 {
				t.Errorf("receiver got %d requests, want 1", n)
			}
			if n := len(other.requests()); n != 0 {
				t.Errorf("the redirect was followed")
			}
			if _, ok := e.clk.Next(); ok && e.nextWaitNow() < 30*time.Minute {
				t.Errorf("a retry is scheduled")
			}
		})
	}
}

func (e *env) nextWaitNow() time.Duration {
	next, _ := e.clk.Next()
	return next.Sub(e.clk.Now())
}

// 408 and 425 say "try again later", like 429 and 5xx: retried, then
// delivered.
func TestDeliveryRetries408And425(t *testing.T) {
	for _, code := range []int{408, 425} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			rc := newReceiver(t, status(code), status(204))
			e := newEnv(t, true)
			e.hook(t, control.Webhook{Name: "ops", URL: rc.URL})
			e.d.Emit(alert.Event{Kind: alert.EndpointDown, Service: "api.example.com."})
			waitFor(t, "the first attempt", func() bool { return len(rc.requests()) == 1 })
			e.nextWait(t)
			if v := e.value(t, "stratus_webhook_deliveries_total", "ops", "retry"); v != 1 {
				t.Fatalf("retried %v, want 1", v)
			}
			e.clk.StepToNext()
			waitFor(t, "the delivery", func() bool { return e.value(t, "stratus_webhook_deliveries_total", "ops", "ok") == 1 })
		})
	}
}

// A delivery older than the maximum age is given up and counted.
func TestDeliveryGivenUp(t *testing.T) {
	rc := newReceiver(t, status(503))
	e := newEnv(t, true, func(o *Options) { o.MaxAge = 10 * time.Minute })
	e.hook(t, control.Webhook{Name: "ops", URL: rc.URL})
	e.d.Emit(alert.Event{Kind: alert.AllDownEngaged, Service: "api.example.com."})
	waitFor(t, "the first attempt", func() bool { return len(rc.requests()) == 1 })
	for e.value(t, "stratus_webhook_deliveries_total", "ops", "failed") == 0 {
		n := len(rc.requests())
		e.nextWait(t)
		e.clk.StepToNext()
		waitFor(t, "an attempt or giving up", func() bool {
			return len(rc.requests()) > n || e.value(t, "stratus_webhook_deliveries_total", "ops", "failed") == 1
		})
		if e.clk.Now().After(time.Date(2026, 1, 2, 3, 20, 0, 0, time.UTC)) {
			t.Fatal("not given up after its maximum age")
		}
	}
	waitFor(t, "the outbox to empty", func() bool { return len(e.outbox(t)) == 0 })
	if age := e.clk.Now().Sub(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)); age > 10*time.Minute {
		t.Errorf("given up after %v, later than its maximum age", age)
	}
}

// Each webhook's filters choose the alerts it gets; steering's alerts are
// written by the leader alone, a node's own alerts by the node.
func TestFiltersAndWhoEnqueues(t *testing.T) {
	for _, lead := range []bool{false, true} {
		t.Run(fmt.Sprintf("leading=%v", lead), func(t *testing.T) {
			e := newEnv(t, lead)
			url := "http://127.0.0.1:9/" // never reached: nothing is delivered unless leading
			if lead {
				url = newReceiver(t, status(500)).URL
			}
			e.hook(t, control.Webhook{Name: "all", URL: url})
			e.hook(t, control.Webhook{Name: "drills", URL: url, Events: []string{"drill_failed"}})
			e.hook(t, control.Webhook{Name: "api", URL: url, Services: []string{"API.example.com"}})
			e.hook(t, control.Webhook{Name: "zone", URL: url, Zones: []string{"example.org."}, Events: []string{"secondary_expired"}})
			e.d.Emit(alert.Event{Kind: alert.EndpointDown, Service: "api.example.com."})
			e.d.Emit(alert.Event{Kind: alert.FailoverStarted, Service: "www.example.com."})
			e.d.Emit(alert.Event{Kind: alert.DrillFailed, Drill: "d1"})
			e.d.Emit(alert.Event{Kind: alert.SecondaryExpired, Zone: "example.org."})
			e.d.Emit(alert.Event{Kind: alert.SecondaryExpired, Zone: "example.net."})
			want := map[string][]string{
				"all":    {"drill_failed", "secondary_expired", "secondary_expired"},
				"drills": {"drill_failed"},
				"zone":   {"secondary_expired"},
			}
			if lead {
				want["all"] = append([]string{"endpoint_down", "failover_started"}, want["all"]...)
				want["api"] = []string{"endpoint_down"}
			}
			total := 0
			for _, k := range want {
				total += len(k)
			}
			var got map[string][]string
			seen := map[string]bool{}
			waitFor(t, "the outbox entries", func() bool {
				got = map[string][]string{}
				n := 0
				for _, en := range e.outbox(t) {
					if !seen[en.Delivery] {
						seen[en.Delivery] = true
					}
					got[en.Webhook] = append(got[en.Webhook], en.Kind)
					n++
				}
				return len(seen) >= total
			})
			if len(seen) != total {
				t.Errorf("%d deliveries, want %d", len(seen), total)
			}
			for name, kinds := range want {
				if fmt.Sprint(got[name]) != fmt.Sprint(kinds) {
					t.Errorf("webhook %s gets %v, want %v", name, got[name], kinds)
				}
			}
			for name := range got {
				if want[name] == nil {
					t.Errorf("webhook %s gets %v, want nothing", name, got[name])
				}
			}
		})
	}
}

func TestMatches(t *testing.T) {
	for _, tc := range []struct {
		w    control.Webhook
		ev   alert.Event
		want bool
	}{
		{control.Webhook{}, alert.Event{Kind: alert.EndpointUp}, true},
		{control.Webhook{Events: []string{"endpoint_up"}}, alert.Event{Kind: alert.EndpointUp}, true},
		{control.Webhook{Events: []string{"endpoint_down"}}, alert.Event{Kind: alert.EndpointUp}, false},
		{control.Webhook{Services: []string{"a.example."}}, alert.Event{Kind: alert.EndpointUp, Service: "A.example"}, true},
		{control.Webhook{Services: []string{"a.example."}}, alert.Event{Kind: alert.EndpointUp, Service: "b.example."}, false},
		{control.Webhook{Services: []string{"a.example."}}, alert.Event{Kind: alert.DrillFailed}, false},
		{control.Webhook{Zones: []string{"example.org."}}, alert.Event{Kind: alert.SecondaryExpired, Zone: "example.org."}, true},
		{control.Webhook{Zones: []string{"example.org."}, Events: []string{"drill_failed"}}, alert.Event{Kind: alert.SecondaryExpired, Zone: "example.org."}, false},
		// A zone filter takes steering's alerts for services in the zone.
		{control.Webhook{Zones: []string{"example.com."}}, alert.Event{Kind: alert.FailoverStarted, Service: "api.example.com."}, true},
		{control.Webhook{Zones: []string{"example.com."}}, alert.Event{Kind: alert.FailoverStarted, Service: "API.Example.COM"}, true},
		{control.Webhook{Zones: []string{"example.com."}}, alert.Event{Kind: alert.EndpointDown, Service: "example.com."}, true},
		{control.Webhook{Zones: []string{"example.com."}}, alert.Event{Kind: alert.EndpointDown, Service: "a.b.example.com"}, true},
		{control.Webhook{Zones: []string{"example.com."}}, alert.Event{Kind: alert.EndpointDown, Service: "api.example.org."}, false},
		{control.Webhook{Zones: []string{"example.com."}}, alert.Event{Kind: alert.EndpointDown, Service: "api.notexample.com."}, false},
		{control.Webhook{Zones: []string{"example.com."}}, alert.Event{Kind: alert.EndpointDown, Service: `a\.example.com.`}, false},
		{control.Webhook{Zones: []string{"example.com."}}, alert.Event{Kind: alert.DrillFailed}, false},
		{control.Webhook{Zones: []string{"example.com.", "example.org."}}, alert.Event{Kind: alert.SecondaryExpired, Zone: "Example.ORG"}, true},
		{control.Webhook{Zones: []string{"example.com."}, Services: []string{"api.example.com."}}, alert.Event{Kind: alert.EndpointUp, Service: "www.example.com."}, false},
		{control.Webhook{Zones: []string{"."}}, alert.Event{Kind: alert.EndpointUp, Service: "api.example.com."}, true},
	} {
		if got := Matches(&tc.w, tc.ev); got != tc.want {
			t.Errorf("Matches(%+v, %+v) = %v, want %v", tc.w, tc.ev, got, tc.want)
		}
	}
}

// Emit never blocks: beyond the queue, alerts are dropped and counted,
// and logged at most once a minute, so that a later incident is logged
// again.
func TestEmitNeverBlocks(t *testing.T) {
	logs := &syncBuffer{}
	clk := clock.NewFake(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	e := &env{reg: prometheus.NewRegistry()}
	d := New(Options{Queue: 2, Registerer: e.reg, Clock: clk, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	for range 5 {
		d.Emit(alert.Event{Kind: alert.EndpointDown})
	}
	if v := e.value(t, "stratus_webhook_alerts_dropped_total", "queue_full"); v != 3 {
		t.Errorf("dropped %v, want 3", v)
	}
	if n := strings.Count(logs.String(), "alert queue full"); n != 1 {
		t.Errorf("%d lines about the full queue in one incident, want 1:\n%s", n, logs)
	}
	clk.Step(time.Hour)
	d.Emit(alert.Event{Kind: alert.EndpointDown})
	if v := e.value(t, "stratus_webhook_alerts_dropped_total", "queue_full"); v != 4 {
		t.Errorf("dropped %v, want 4", v)
	}
	if n := strings.Count(logs.String(), "alert queue full"); n < 2 {
		t.Errorf("the full queue an hour later is not logged:\n%s", logs)
	}
}

// A test alert goes to the webhook at once, signed, and says how the
// receiver answered.
func TestTest(t *testing.T) {
	rc := newReceiver(t, status(202), status(418))
	e := newEnv(t, false)
	e.hook(t, control.Webhook{Name: "ops", URL: rc.URL, Events: []string{"drill_failed"}})
	res, err := e.d.Test(context.Background(), "ops")
	if err != nil || !res.OK || res.Status != 202 || res.Delivery == "" {
		t.Fatalf("Test = %+v, %v", res, err)
	}
	r := rc.requests()[0]
	checkSignature(t, r)
	if r.header.Get(HeaderEvent) != "test" || r.header.Get(HeaderDelivery) != res.Delivery {
		t.Errorf("headers %v", r.header)
	}
	var p Payload
	if err := json.Unmarshal(r.body, &p); err != nil || p.Delivery != res.Delivery || p.Kind != "test" {
		t.Errorf("body %s: delivery %q, want %q", r.body, p.Delivery, res.Delivery)
	}
	res, err = e.d.Test(context.Background(), "ops")
	if err != nil || res.OK || res.Status != 418 || !strings.Contains(res.Error, "418") {
		t.Errorf("Test against a 418 = %+v, %v", res, err)
	}
	if _, err := e.d.Test(context.Background(), "nope"); err != control.ErrWebhookNotFound {
		t.Errorf("Test of a missing webhook: %v", err)
	}
}

// The signature is the one openssl computes:
// printf '%s' '1700000000.{"a":1}' | openssl dgst -sha256 -hmac secret
func TestSign(t *testing.T) {
	const want = "sha256=49f24e537407743fa4a0242bb63b94b9a47ee99cbbe071ccd8a22550ae411686"
	if got := Sign("secret", "1700000000", []byte(`{"a":1}`)); got != want {
		t.Errorf("Sign = %q, want %q", got, want)
	}
}

// value returns the value of the metric name with these label values
// (webhook, result) in the dispatcher's registry; 0 when absent.
func (e *env) value(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) != len(labels) {
				continue
			}
			for _, lp := range m.GetLabel() { // sorted by name: result, webhook
				if !slices.Contains(labels, lp.GetValue()) {
					continue metrics
				}
			}
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return 0
}
