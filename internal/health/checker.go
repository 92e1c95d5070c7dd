package health

import (
	"context"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"github.com/stratusdns/stratus/internal/clock"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/telemetry"
)

// Defaults of Options.
const (
	DefaultMaxInFlight = 512
	DefaultEventLimit  = 10000
	DefaultEventBytes  = 4 << 20
	DefaultUserAgent   = "stratus-health/1"
)

// Options configure a Checker. The zero value is usable.
type Options struct {
	// Clock stamps statuses and events, measures how far apart successes
	// come for Rise, and schedules probes, hold-down ends and push expiry
	// (default clock.Real()).
	Clock clock.Clock
	// MaxInFlight bounds the probes running at once, over all targets
	// (default 512).
	MaxInFlight int
	// EventLimit is how many events are kept (default 10000); the oldest
	// are dropped first.
	EventLimit int
	// EventBytes bounds the bytes the kept events take, as eventSize
	// counts them (default 4 MiB): the oldest are dropped first, the
	// newest is always kept.
	EventBytes int
	// OnChange is called when a target's effective state or hold-down
	// changes, after the status is updated, with the keys of the targets
	// that changed (sorted, each once). Calls are coalesced and made from
	// one goroutine of the checker, never with a lock held, so it may read
	// Statuses; it must not call Close. It never blocks the checker:
	// changes made while it runs lead to one more call, with their keys.
	// ctx carries the trace of the first change reported (telemetry).
	OnChange func(ctx context.Context, keys []string)
	// Logger receives state changes (Info) and probe failures (Debug).
	// Default: discard.
	Logger *slog.Logger
	// Resolver resolves hostname targets (default net.DefaultResolver).
	Resolver *net.Resolver
	// UserAgent is the User-Agent of HTTP probes whose check sets none
	// (default "stratus-health/1").
	UserAgent string
	// Metrics is where the checker's metrics are registered (nil: they
	// are not exported).
	Metrics prometheus.Registerer
}

// Checker checks a set of targets and keeps their statuses and an event
// log of their changes. Its methods are safe for concurrent use.
type Checker struct {
	opts   Options
	log    *slog.Logger
	sem    chan struct{} // bounds the probes in flight
	events *eventLog

	notify       chan struct{} // capacity 1: a change to report to OnChange
	pendingMu    sync.Mutex
	pending      map[string]struct{} // keys changed since OnChange was last called
	pendingSpans []trace.SpanContext // the state changes' spans among them
	stop         chan struct{}       // closed by Close
	notifierDone chan struct{}

	setMu   sync.Mutex // serializes SetTargets and Close
	mu      sync.Mutex // guards targets and closed
	targets map[string]*target
	closed  bool

	probes  atomic.Uint64 // probes completed, for measurements
	metrics *metrics

	// Test hooks, set before the first SetTargets.
	jitter    func(time.Duration) time.Duration // the first probe's delay
	onProbe   func(key string, r result)        // after each probe
	roots     *x509.CertPool                    // trusted TLS roots
	proberFor func(*probeEnv) (prober, error)   // replaces newProber
}

// New returns a checker with no targets.
func New(opts Options) *Checker {
	if opts.Clock == nil {
		opts.Clock = clock.Real()
	}
	if opts.MaxInFlight <= 0 {
		opts.MaxInFlight = DefaultMaxInFlight
	}
	if opts.EventLimit <= 0 {
		opts.EventLimit = DefaultEventLimit
	}
	if opts.EventBytes <= 0 {
		opts.EventBytes = DefaultEventBytes
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Resolver == nil {
		opts.Resolver = net.DefaultResolver
	}
	if opts.UserAgent == "" {
		opts.UserAgent = DefaultUserAgent
	}
	c := &Checker{
		opts:         opts,
		log:          opts.Logger,
		sem:          make(chan struct{}, opts.MaxInFlight),
		events:       newEventLog(opts.EventLimit, opts.EventBytes),
		notify:       make(chan struct{}, 1),
		stop:         make(chan struct{}),
		notifierDone: make(chan struct{}),
		targets:      map[string]*target{},
	}
	c.metrics = newMetrics(c, opts.Metrics)
	if opts.OnChange != nil {
		go c.notifier()
	} else {
		close(c.notifierDone)
	}
	return c
}

// SetTargets makes ts the set of checked targets. New targets start
// (their first probe after a random delay within their interval); targets
// not in ts stop: their probes end and their connections close before
// SetTargets returns. A target whose Target changed restarts with its new
// check; when it is probed both before and after, it keeps its state until
// the first result of the new check, which decides at once. A change of
// Damping alone keeps everything. When a key is given twice, the last one
// wins. After Close, SetTargets does nothing.
func (c *Checker) SetTargets(ts []Target) {
	c.setMu.Lock()
	defer c.setMu.Unlock()
	want := make(map[string]Target, len(ts))
	for _, t := range ts {
		want[t.Key] = t
	}
	c.mu.Lock()
	var remove []string
	for key := range c.targets {
		if _, ok := want[key]; !ok {
			remove = append(remove, key)
		}
	}
	c.mu.Unlock()
	c.update(ts, remove)
}

// UpdateTargets adds or reconfigures the targets in set and stops the
// targets keyed in remove, leaving every other target alone: the cost is
// that of the change, not of all targets.
func (c *Checker) UpdateTargets(set []Target, remove []string) {
	c.setMu.Lock()
	defer c.setMu.Unlock()
	c.update(set, remove)
}

// update applies a change of targets. Call with setMu held.
func (c *Checker) update(set []Target, remove []string) {
	type restart struct {
		t  *target
		to Target
	}
	var (
		stopped  []*target
		restarts []restart
		added    []*target
	)
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	for _, key := range remove {
		if t, ok := c.targets[key]; ok {
			stopped = append(stopped, t)
			delete(c.targets, key)
		}
	}
	for _, nt := range set {
		t, ok := c.targets[nt.Key]
		switch {
		case !ok:
			t := newTarget(c, nt)
			c.targets[nt.Key] = t
			added = append(added, t)
		case sameCheck(t.tgt, nt):
			if t.tgt.Damping != nt.Damping {
				t.setDamping(nt.Damping)
			}
		default:
			restarts = append(restarts, restart{t, nt})
		}
	}
	c.mu.Unlock()

	halt := stopped
	for _, r := range restarts {
		halt = append(halt, r.t)
	}
	stopTargets(halt)
	for _, r := range restarts {
		r.t.reconfigure(r.to)
		r.t.start()
	}
	for _, t := range added {
		t.start()
	}
}

// sameCheck reports whether two targets are checked the same way
// (everything but Damping is equal).
func sameCheck(a, b Target) bool {
	return a.Key == b.Key && a.Host == b.Host && a.Port == b.Port && a.ServerName == b.ServerName &&
		sameSpec(&a.Check, &b.Check)
}

// stopTargets stops targets in parallel and waits for all of them.
func stopTargets(ts []*target) {
	for _, t := range ts {
		t.cancel()
	}
	for _, t := range ts {
		t.wait()
	}
}

// Status returns the status of the target with this key.
func (c *Checker) Status(key string) (Status, bool) {
	c.mu.Lock()
	t := c.targets[key]
	c.mu.Unlock()
	if t == nil {
		return Status{}, false
	}
	return t.status(), true
}

// Statuses returns a copy of every target's status, by key.
func (c *Checker) Statuses() map[string]Status {
	c.mu.Lock()
	ts := make([]*target, 0, len(c.targets))
	for _, t := range c.targets {
		ts = append(ts, t)
	}
	c.mu.Unlock()
	out := make(map[string]Status, len(ts))
	for _, t := range ts {
		out[t.key] = t.status()
	}
	return out
}

// Push records a report from a push target: up sets it Up, otherwise
// Down, at once (no thresholds), with reason in the event. The state
// holds for the check's PushTTL; without a new report by then the target
// goes Down ("push report expired"). Push fails for an unknown key, a
// target that is not a push target, or a closed checker.
func (c *Checker) Push(key string, up bool, reason string) error {
	c.mu.Lock()
	t, closed := c.targets[key], c.closed
	c.mu.Unlock()
	switch {
	case closed:
		return fmt.Errorf("push for %q: the health checker is closed", key)
	case t == nil:
		return fmt.Errorf("push for %q: no such health check target", key)
	}
	return t.push(up, model.StripControl(clipText(reason, model.MaxReasonLen)))
}

// Record appends an event from elsewhere (a lease lapse, an override) to
// the log. The log assigns Seq (keeping sequence numbers strictly
// increasing, whatever ev.Seq says) and sets Time to now when it is zero.
// It does not call OnChange: it changes no state.
func (c *Checker) Record(ev Event) {
	if ev.Time.IsZero() {
		ev.Time = c.now()
	}
	c.events.add(ev)
}

// Events returns the events with Seq greater than after, oldest first, at
// most limit of them (all that are kept when limit is 0). Events older
// than the newest EventLimit are gone.
func (c *Checker) Events(after uint64, limit int) []Event {
	return c.events.after(after, limit)
}

// RestoreEvents puts events kept from an earlier run (ordered by Seq,
// increasing) into the empty log: Events returns them, and the next event
// is numbered after the last of them. Call it before the first
// SetTargets; once the log has an event it does nothing and reports
// false.
func (c *Checker) RestoreEvents(evs []Event) bool { return c.events.restore(evs) }

// EventsAdded returns a channel that receives a value when events were
// logged since it last did (one value for any number of them): a reader
// that then asks Events for those after the last it has misses none. The
// channel is never closed.
func (c *Checker) EventsAdded() <-chan struct{} { return c.events.added }

// Close stops every target and goroutine of the checker and closes its
// connections. It is idempotent. Statuses are empty afterwards; events
// stay readable.
func (c *Checker) Close() {
	c.setMu.Lock()
	defer c.setMu.Unlock()
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	ts := make([]*target, 0, len(c.targets))
	for _, t := range c.targets {
		ts = append(ts, t)
	}
	c.targets = map[string]*target{}
	c.mu.Unlock()
	stopTargets(ts)
	close(c.stop)
	<-c.notifierDone
}

// changed asks for an OnChange call naming key, without blocking.
func (c *Checker) changed(key string, sc trace.SpanContext) {
	if c.opts.OnChange == nil {
		return
	}
	c.pendingMu.Lock()
	if c.pending == nil {
		c.pending = map[string]struct{}{}
	}
	c.pending[key] = struct{}{}
	if sc.IsValid() && len(c.pendingSpans) < maxLinkedChanges {
		c.pendingSpans = append(c.pendingSpans, sc)
	}
	c.pendingMu.Unlock()
	select {
	case c.notify <- struct{}{}:
	default: // a call is pending already and will take this key
	}
}

// takePending returns the keys changed since it last did, sorted.
func (c *Checker) takePending() ([]string, []trace.SpanContext) {
	c.pendingMu.Lock()
	keys := make([]string, 0, len(c.pending))
	for k := range c.pending {
		keys = append(keys, k)
	}
	spans := c.pendingSpans
	c.pending, c.pendingSpans = nil, nil
	c.pendingMu.Unlock()
	slices.Sort(keys)
	return keys, spans
}

// notifier calls OnChange once per batch of changes, with their keys.
func (c *Checker) notifier() {
	defer close(c.notifierDone)
	for {
		select {
		case <-c.stop:
			return
		case <-c.notify:
			if keys, spans := c.takePending(); len(keys) > 0 {
				ctx, span := traceNotify(spans, len(keys))
				// A panic of the receiver loses this batch, not the
				// notifier: later changes are still told.
				telemetry.Guard(c.log, "health", func() { c.opts.OnChange(ctx, keys) })
				span.End()
			}
		}
	}
}

// acquire takes a probe slot, or gives up when ctx ends.
func (c *Checker) acquire(done <-chan struct{}) bool {
	select {
	case c.sem <- struct{}{}:
		return true
	case <-done:
		return false
	}
}

func (c *Checker) release() { <-c.sem }
