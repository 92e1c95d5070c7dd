package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	mrand "math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stratusdns/stratus/internal/alert"
	"github.com/stratusdns/stratus/internal/clock"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/lograte"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/telemetry"
	"github.com/stratusdns/stratus/internal/version"
)

// The headers of a delivery.
const (
	HeaderEvent     = "X-Stratus-Event"
	HeaderDelivery  = "X-Stratus-Delivery"
	HeaderTimestamp = "X-Stratus-Timestamp"
	HeaderSignature = "X-Stratus-Signature"
)

// TestKind is the kind of the alert "stratus webhook test" sends.
const TestKind = "test"

// Defaults for Options.
const (
	DefaultMaxAge     = 24 * time.Hour
	DefaultTimeout    = 10 * time.Second
	DefaultMinBackoff = time.Second
	DefaultMaxBackoff = 5 * time.Minute
	DefaultPoll       = 2 * time.Second
	DefaultQueue      = 1024
	DefaultMaxPending = 10000
	maxInFlight       = 16
	maxPerHook        = 4 // of maxInFlight, to one webhook
	maxBatch          = 256
	outboxPage        = 500 // entries the leader reads at a time
	// A write to the outbox the store refuses is tried storeTries times,
	// storeBackoff after the first failure and four times as long after
	// each further one (0.25 s, 1 s), before its alerts are dropped.
	storeTries   = 3
	storeBackoff = 250 * time.Millisecond
)

// The reasons an alert is dropped before the outbox
// (stratus_webhook_alerts_dropped_total{reason}).
const (
	dropQueueFull  = "queue_full"  // the queue before the outbox is full
	dropOutboxFull = "outbox_full" // its webhook has MaxPending deliveries pending
	dropNotLeader  = "not_leader"  // steering's, on a node that does not lead
	dropStoreError = "store_error" // the store refused the write, tried again
)

// Payload is the JSON body of a delivery. Fields that do not apply to
// the kind are empty strings; Details is an object, empty when there are
// none. ID names the alert (the same for every webhook that takes it);
// Delivery names the delivery to one webhook, the same on every attempt
// (the header X-Stratus-Delivery is a copy, and is not signed).
type Payload struct {
	ID       string            `json:"id"`
	Delivery string            `json:"delivery"`
	Kind     string            `json:"kind"`
	Time     time.Time         `json:"time"`
	Service  string            `json:"service"`
	Pool     string            `json:"pool"`
	Endpoint string            `json:"endpoint"`
	Zone     string            `json:"zone"`
	Drill    string            `json:"drill"`
	Summary  string            `json:"summary"`
	Details  map[string]string `json:"details"`
	Node     string            `json:"node"`
}

// Store is the part of the control plane the dispatcher uses
// (*control.Webhooks).
type Store interface {
	Enqueue(ctx context.Context, build func([]control.Webhook) []control.OutboxEntry) ([]control.OutboxEntry, error)
	OutboxPage(ctx context.Context, after uint64, limit int) ([]control.OutboxEntry, uint64, error)
	DeleteOutbox(ctx context.Context, seq uint64) error
	Webhook(ctx context.Context, name string) (*control.Webhook, error)
	Webhooks(ctx context.Context) ([]control.Webhook, error)
}

// Options configure a Dispatcher. Zero values mean the defaults.
type Options struct {
	// Node names this node in every payload.
	Node string
	// Clock times the backoff, the outbox's polling and the payloads
	// (default clock.Real()). Timeout is network time, on the system
	// clock.
	Clock clock.Clock
	// MaxAge: a delivery not made this long after its alert is given up.
	MaxAge time.Duration
	// Timeout bounds each attempt.
	Timeout time.Duration
	// MinBackoff is the wait after the first failed attempt; it doubles
	// at each further one, up to MaxBackoff, with ±20% jitter.
	MinBackoff, MaxBackoff time.Duration
	// Poll is how often the leader reads the outbox for entries other
	// nodes added.
	Poll time.Duration
	// Queue bounds the alerts emitted and not yet written; beyond it they
	// are dropped and counted.
	Queue int
	// MaxPending bounds the deliveries pending to one webhook: beyond it,
	// the leader drops new alerts for that webhook and counts them.
	MaxPending int
	// Registerer takes the metrics; nil exports none.
	Registerer prometheus.Registerer
	Logger     *slog.Logger
}

// Dispatcher is the node's alert.Sink and the delivery of its webhooks.
// Emit queues; Run writes the queue to the outbox; Lead, on the leader,
// delivers the outbox.
type Dispatcher struct {
	opts   Options
	log    *slog.Logger
	queue  chan alert.Event
	kick   chan struct{}
	client *http.Client

	ready chan struct{}
	st    Store
	rl    *lograte.Limiter // the lines an incident repeats

	mu   sync.Mutex
	term context.Context // the leader's term while Lead runs; else nil
	// counts, while Lead runs, is the deliveries pending to each webhook
	// in the outbox as the leader last read it; fresh, the entries this
	// node wrote since (their seq beyond what Lead read). nil: not leading.
	counts map[string]int
	fresh  []control.OutboxEntry
	// series names the webhooks that have deliveries_total series.
	series map[string]bool

	deliveries *prometheus.CounterVec
	pending    prometheus.Gauge
	dropped    *prometheus.CounterVec
}

// New returns a dispatcher; alerts emitted before Run are queued.
func New(opts Options) *Dispatcher {
	if opts.Clock == nil {
		opts.Clock = clock.Real()
	}
	opts.MaxAge = cmpOr(opts.MaxAge, DefaultMaxAge)
	opts.Timeout = cmpOr(opts.Timeout, DefaultTimeout)
	opts.MinBackoff = cmpOr(opts.MinBackoff, DefaultMinBackoff)
	opts.MaxBackoff = cmpOr(opts.MaxBackoff, DefaultMaxBackoff)
	opts.Poll = cmpOr(opts.Poll, DefaultPoll)
	if opts.Queue <= 0 {
		opts.Queue = DefaultQueue
	}
	if opts.MaxPending <= 0 {
		opts.MaxPending = DefaultMaxPending
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil // only ever the configured URL
	d := &Dispatcher{
		opts:   opts,
		log:    log,
		queue:  make(chan alert.Event, opts.Queue),
		kick:   make(chan struct{}, 1),
		ready:  make(chan struct{}),
		rl:     lograte.New(log, 1, time.Minute, opts.Clock),
		series: map[string]bool{},
		client: &http.Client{
			Transport: tr,
			Timeout:   opts.Timeout,
			// Redirects are not followed: a delivery goes to the
			// configured URL or nowhere.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: telemetry.Namespace, Subsystem: "webhook", Name: "deliveries_total",
			Help: "Attempts to deliver an alert to a webhook, by result: ok (accepted), retry (to be tried again), failed (refused or given up).",
		}, []string{"webhook", "result"}),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: telemetry.Namespace, Subsystem: "webhook", Name: "outbox_pending",
			Help: "Deliveries in the outbox not yet made, as the leader last read it (0 on other nodes).",
		}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: telemetry.Namespace, Subsystem: "webhook", Name: "alerts_dropped_total",
			Help: "Alerts dropped before reaching the outbox, by reason: queue_full (the queue before it), outbox_full (per webhook that would take it: alerts.webhook_max_pending reached), not_leader (steering's, on a node that does not lead: the leader writes them), store_error (the store refused the write, tried again).",
		}, []string{"reason"}),
	}
	for _, r := range []string{dropQueueFull, dropOutboxFull, dropNotLeader, dropStoreError} {
		d.dropped.WithLabelValues(r)
	}
	if r := opts.Registerer; r != nil {
		r.MustRegister(d.deliveries, d.pending, d.dropped)
	}
	return d
}

func cmpOr(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Emit queues an alert; it never blocks. When the queue is full the
// alert is dropped and counted.
func (d *Dispatcher) Emit(ev alert.Event) {
	select {
	case d.queue <- ev:
	default:
		d.rl.Warn("alert queue full: alerts dropped (stratus_webhook_alerts_dropped_total counts them)", "kind", ev.Kind)
		d.dropped.WithLabelValues(dropQueueFull).Inc()
	}
}

// PerNode reports whether alerts of kind k are seen by one node only (a
// drill it ran, a secondary zone it refreshes): that node writes them to
// the outbox. The others (steering's) are seen by every node alike, and
// only the leader writes them.
func PerNode(k alert.Kind) bool { return k == alert.DrillFailed || k == alert.SecondaryExpired }

// Run writes the queued alerts to st's outbox until ctx is done, one
// transaction per batch.
func (d *Dispatcher) Run(ctx context.Context, st Store) {
	d.st = st
	close(d.ready)
	for {
		var batch []alert.Event
		select {
		case ev := <-d.queue:
			batch = append(batch, ev)
		case <-ctx.Done():
			return
		}
	more:
		for len(batch) < maxBatch {
			select {
			case ev := <-d.queue:
				batch = append(batch, ev)
			default:
				break more
			}
		}
		if telemetry.Guard(d.log, "webhook", func() { d.enqueue(ctx, st, batch) }) {
			d.dropped.WithLabelValues(dropStoreError).Add(float64(len(batch))) // at most: some may be written
		}
	}
}

func (d *Dispatcher) leaderTerm() context.Context {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.term != nil && d.term.Err() == nil {
		return d.term
	}
	return nil
}

// enqueue writes one batch: with the leader's term when this node leads
// (steering's alerts and its own), else its own alone; steering's are
// then dropped, counted, as the leader writes them.
func (d *Dispatcher) enqueue(ctx context.Context, st Store, batch []alert.Event) {
	var local, all []alert.Event
	term := d.leaderTerm()
	for _, ev := range batch {
		if PerNode(ev.Kind) {
			local = append(local, ev)
			all = append(all, ev)
		} else if term != nil {
			all = append(all, ev)
		}
	}
	if n := len(batch) - len(local); term == nil && n > 0 {
		d.rl.Log(slog.LevelDebug, "steering alerts not written: this node does not lead, the leader writes them", "alerts", n)
		d.dropped.WithLabelValues(dropNotLeader).Add(float64(n))
	}
	if term != nil && len(all) > 0 {
		left, err := d.write(term, st, all)
		if len(left) == 0 {
			return
		}
		if term.Err() == nil {
			d.storeError(len(left), err)
			return
		}
		// The term ended: this node's own alerts not written yet are
		// written as another node's would be; steering's are the next
		// leader's.
		local = local[:0]
		for _, ev := range left {
			if PerNode(ev.Kind) {
				local = append(local, ev)
			}
		}
		d.dropped.WithLabelValues(dropNotLeader).Add(float64(len(left) - len(local)))
	}
	if len(local) == 0 {
		return
	}
	if left, err := d.write(ctx, st, local); len(left) > 0 && ctx.Err() == nil {
		d.storeError(len(left), err)
	}
}

func (d *Dispatcher) storeError(n int, err error) {
	d.rl.Warn("alerts not written to the webhook outbox", "alerts", n, "err", err)
	d.dropped.WithLabelValues(dropStoreError).Add(float64(n))
}

// write writes the outbox entries of events, trying again (storeTries in
// all) when the store refuses; a write that went part of the way goes on
// from where it stopped. It returns the events not written in full, and
// the last error.
func (d *Dispatcher) write(ctx context.Context, st Store, events []alert.Event) ([]alert.Event, error) {
	var entries []control.OutboxEntry
	var owner []int // owner[i]: the index in events of entries[i]
	built, done := false, 0
	build := func(hooks []control.Webhook) []control.OutboxEntry {
		if !built {
			entries, owner = d.entries(events, hooks)
			built = true
		}
		return entries[done:]
	}
	for try := 1; ; try++ {
		added, err := st.Enqueue(ctx, build)
		done += len(added)
		if len(added) > 0 {
			d.wrote(added)
			d.wake()
		}
		if err == nil {
			return nil, nil
		}
		if try == storeTries || ctx.Err() != nil {
			if built && done < len(entries) {
				return events[owner[done]:], err
			}
			if built {
				return nil, nil
			}
			return events, err
		}
		wait := storeBackoff << (2 * (try - 1))
		t := d.opts.Clock.NewTimer(wait)
		select {
		case <-t.C():
		case <-ctx.Done():
			t.Stop()
		}
	}
}

// wrote notes entries this node wrote, for the count of each webhook's
// pending deliveries until Lead reads them.
func (d *Dispatcher) wrote(added []control.OutboxEntry) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.counts != nil {
		d.fresh = append(d.fresh, added...)
	}
}

// pendingTo returns how many deliveries to each webhook are pending, as
// far as this node knows; nil when it does not lead (and does not know).
func (d *Dispatcher) pendingTo() map[string]int {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.counts == nil {
		return nil
	}
	n := maps.Clone(d.counts)
	for _, e := range d.fresh {
		n[e.Webhook]++
	}
	return n
}

func (d *Dispatcher) wake() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// entries returns the outbox entries of events, one per event and
// webhook whose filters take it, and the index of each one's event. On
// the leader, a webhook with MaxPending deliveries pending takes none:
// the alerts for it are dropped and counted.
func (d *Dispatcher) entries(events []alert.Event, hooks []control.Webhook) (out []control.OutboxEntry, owner []int) {
	now := d.opts.Clock.Now().UTC()
	pending := d.pendingTo()
	for j, ev := range events {
		id := ""
		for i := range hooks {
			if !Matches(&hooks[i], ev) {
				continue
			}
			name := hooks[i].Name
			if pending != nil {
				if pending[name] >= d.opts.MaxPending {
					d.rl.Warn("webhook outbox full: new alerts for the webhook dropped", "webhook", name, "pending", pending[name], "kind", ev.Kind)
					d.dropped.WithLabelValues(dropOutboxFull).Inc()
					continue
				}
				pending[name]++
			}
			if id == "" {
				id = newID()
			}
			delivery := newID()
			out = append(out, control.OutboxEntry{Webhook: name, Delivery: delivery, Kind: string(ev.Kind), Created: now, Payload: d.payload(ev, id, delivery)})
			owner = append(owner, j)
		}
	}
	return out, owner
}

// payload is the body of delivery to one webhook of alert id.
func (d *Dispatcher) payload(ev alert.Event, id, delivery string) []byte {
	t := ev.Time
	if t.IsZero() {
		t = d.opts.Clock.Now()
	}
	p := Payload{ID: id, Delivery: delivery, Kind: string(ev.Kind), Time: t.UTC(), Service: ev.Service, Pool: ev.Pool, Endpoint: ev.Endpoint,
		Zone: ev.Zone, Drill: ev.Drill, Summary: ev.Summary, Details: ev.Details, Node: d.opts.Node}
	if p.Details == nil {
		p.Details = map[string]string{}
	}
	b, err := json.Marshal(p)
	if err != nil {
		panic(err) // strings and a time only
	}
	return b
}

// Matches reports whether w's filters take ev: each filter that is not
// empty must list the alert's kind, or service; a zone filter takes an
// alert whose zone it lists, or whose service is one of its zones or
// below it (steering's alerts name a service, not a zone). Names compare
// as DNS names: case and a trailing dot do not matter. An alert without
// a service (or without a service and a zone) passes no such filter.
func Matches(w *control.Webhook, ev alert.Event) bool {
	if len(w.Events) > 0 && !slices.Contains(w.Events, string(ev.Kind)) {
		return false
	}
	if len(w.Services) > 0 && !slices.Contains(w.Services, canonical(ev.Service)) {
		return false
	}
	if len(w.Zones) > 0 {
		zone, svc := canonical(ev.Zone), canonical(ev.Service)
		if !slices.ContainsFunc(w.Zones, func(z string) bool {
			z = canonical(z)
			return (zone != "" && zone == z) || (svc != "" && inZone(svc, z))
		}) {
			return false
		}
	}
	return true
}

// inZone reports whether name is zone or below it, label by label; both
// are canonical.
func inZone(name, zone string) bool { return model.Name(name).IsSubdomainOf(model.Name(zone)) }

func canonical(s string) string {
	if s == "" {
		return ""
	}
	if n, err := model.ParseName(s); err == nil {
		return string(n)
	}
	return s
}

func newID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail (Go 1.24)
	}
	return hex.EncodeToString(b)
}

// Sign returns the X-Stratus-Signature value of body sent at timestamp
// (Unix seconds, as in X-Stratus-Timestamp): "sha256=" and the hex
// HMAC-SHA256 under secret of timestamp, ".", body.
func Sign(secret, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp))
	m.Write([]byte("."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// outcome is what one attempt came to.
type outcome int

const (
	delivered outcome = iota
	retry             // a connection error, a timeout, 408, 425, 429 or 5xx
	refused           // any other answer: not retried
	gone              // the webhook was deleted
)

// attempt is one attempt's result.
type attempt struct {
	seq        uint64
	outcome    outcome
	status     int
	retryAfter time.Duration
	err        error
}

// send posts body to w once.
func (d *Dispatcher) send(ctx context.Context, w *control.Webhook, kind, delivery string, body []byte) attempt {
	ts := strconv.FormatInt(d.opts.Clock.Now().Unix(), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return attempt{outcome: refused, err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "stratus/"+version.Get().Version)
	req.Header.Set(HeaderEvent, kind)
	req.Header.Set(HeaderDelivery, delivery)
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderSignature, Sign(w.Secret, ts, body))
	resp, err := d.client.Do(req)
	if err != nil {
		return attempt{outcome: retry, err: errors.Unwrap(err)}
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	a := attempt{status: resp.StatusCode}
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		a.outcome = delivered
	case retryable(resp.StatusCode):
		a.outcome = retry
		a.retryAfter = retryAfter(resp.Header.Get("Retry-After"), d.opts.Clock.Now())
	default:
		a.outcome = refused
	}
	return a
}

// retryable reports whether an answer of status code is tried again:
// 408 (the receiver timed out), 425 (too early), 429 and 5xx. Any other
// answer is final.
func retryable(code int) bool {
	return code == http.StatusRequestTimeout || code == http.StatusTooEarly || code == http.StatusTooManyRequests || code >= 500
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// backoff is the wait after the n-th failed attempt (n >= 1).
func (d *Dispatcher) backoff(n int) time.Duration {
	b := float64(d.opts.MinBackoff) * math.Pow(2, float64(n-1))
	b = min(b, float64(d.opts.MaxBackoff))
	return time.Duration(b * (0.8 + 0.4*mrand.Float64()))
}

// TestResult is what a test delivery came to.
type TestResult struct {
	Delivery string
	Status   int // the receiver's HTTP status; 0 when none answered
	OK       bool
	Error    string
}

// Test sends webhook name a test alert now, once, from this node.
func (d *Dispatcher) Test(ctx context.Context, name string) (TestResult, error) {
	select {
	case <-d.ready:
	case <-ctx.Done():
		return TestResult{}, ctx.Err()
	}
	w, err := d.st.Webhook(ctx, name)
	if err != nil {
		return TestResult{}, err
	}
	now := d.opts.Clock.Now().UTC()
	res := TestResult{Delivery: newID()}
	body := d.payload(alert.Event{Kind: TestKind, Time: now, Summary: "a test alert from stratus webhook test"}, newID(), res.Delivery)
	a := d.send(ctx, w, TestKind, res.Delivery, body)
	res.Status, res.OK = a.status, a.outcome == delivered
	switch {
	case a.err != nil:
		res.Error = a.err.Error()
	case !res.OK:
		res.Error = fmt.Sprintf("the receiver answered %d %s", a.status, http.StatusText(a.status))
	}
	d.log.Info("webhook test sent", "webhook", name, "delivery", res.Delivery, "status", res.Status, "ok", res.OK)
	return res, nil
}
